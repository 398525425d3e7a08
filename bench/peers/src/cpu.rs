//! The calling thread's CPU time as criterion's measurement: on a machine
//! whose cores are shared, time the thread spends descheduled is not
//! counted against the code measured (wall time would count it).

use criterion::measurement::{Measurement, ValueFormatter, WallTime};

/// Nanoseconds of CPU time used by the calling thread
/// (`CLOCK_THREAD_CPUTIME_ID`).
pub struct ThreadCpuTime;

fn thread_nanos() -> u64 {
    let mut at = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `at` is a valid timespec for the call to write.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut at) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    u64::try_from(at.tv_sec).unwrap() * 1_000_000_000 + u64::try_from(at.tv_nsec).unwrap()
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_nanos()
    }

    fn end(&self, start: u64) -> u64 {
        thread_nanos().saturating_sub(start)
    }

    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }

    fn zero(&self) -> u64 {
        0
    }

    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}
