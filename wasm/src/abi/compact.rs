//! The compact check over the byte ABI: a license compiled for one feature
//! or metric under a handle, then checks that read a 64-byte ask and write
//! a 136-byte answer, with no JSON either way (wasm/ABI.md, "The compact
//! check").

/// The safe half: the table of compiled checks and the calls on it.
pub mod calls {
    use std::sync::{Mutex, PoisonError};

    use entitle_core::{CheckKind, CompactAsk, CompiledCheck, Expansion, ANSWER_BYTES, ASK_BYTES};

    /// The check answered: the answer record was written.
    pub const ANSWERED: u32 = 0;
    /// The handle is unknown, or its license was loaded anew or unloaded,
    /// or its bundle freed: resolve again.
    pub const STALE_HANDLE: u32 = 1;
    /// These inputs get an error, or an answer the record cannot carry:
    /// send the same check through the JSON entry.
    pub const ASK_JSON: u32 = 2;

    struct Entry {
        bundle: u32,
        compiled: CompiledCheck,
        /// What writes the full answer of a check.
        expansion: Expansion,
    }

    /// Compiled checks by handle: handle `h` is `entries[h - 1]`; handles
    /// count up and are never reused.
    static CHECKS: Mutex<Vec<Option<Entry>>> = Mutex::new(Vec::new());

    fn with_checks<R>(f: impl FnOnce(&mut Vec<Option<Entry>>) -> R) -> R {
        let mut guard = CHECKS.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// Compiles the license `license` of the bundle under `bundle` for
    /// checks of `name` (`kind` 0: a feature check, 1: a consuming check);
    /// the handle (`0` when refused) and the envelope.
    pub fn resolve(bundle: u32, license: &[u8], name: &[u8], kind: u32) -> (u32, String) {
        let kind = match kind {
            0 => CheckKind::Feature,
            1 => CheckKind::Consume,
            _ => {
                return (
                    0,
                    refused("`kind` is 0 (a feature check) or 1 (a consuming check)"),
                )
            }
        };
        let (Ok(license), Ok(name)) = (std::str::from_utf8(license), std::str::from_utf8(name))
        else {
            return (0, refused("the license id and the name are UTF-8 text"));
        };
        let compiled = super::super::calls::with_bundle(bundle, |loaded| {
            loaded
                .compile_json(license, name, kind)
                .map(|(compiled, envelope)| {
                    let expansion = loaded.expansion();
                    (compiled, expansion, envelope)
                })
        });
        let (compiled, expansion, envelope) = match compiled {
            None => return (0, entitle_core::api::unknown_bundle_handle(bundle)),
            Some(Err(envelope)) => return (0, envelope),
            Some(Ok(compiled)) => compiled,
        };
        let handle = with_checks(|checks| {
            checks.push(Some(Entry {
                bundle,
                compiled,
                expansion,
            }));
            u32::try_from(checks.len()).unwrap_or(0)
        });
        (handle, envelope)
    }

    /// Checks through a handle: reads the ask record, writes the answer
    /// record; one of [`ANSWERED`], [`STALE_HANDLE`], [`ASK_JSON`].
    pub fn check(handle: u32, ask: &[u8; ASK_BYTES], answer: &mut [u8; ANSWER_BYTES]) -> u32 {
        let Some(ask) = CompactAsk::read(ask) else {
            return ASK_JSON;
        };
        with_checks(|checks| {
            let entry = checks
                .get(handle.wrapping_sub(1) as usize)
                .and_then(Option::as_ref);
            match entry.map(|e| e.compiled.check(&ask)) {
                None => STALE_HANDLE,
                Some(Err(_)) => ASK_JSON,
                Some(Ok(compact)) => {
                    *answer = compact.write();
                    ANSWERED
                }
            }
        })
    }

    /// [`check`], and when it answers, the full JSON envelope of the same
    /// check too (the JSON entry's bytes for the same request): the status
    /// and the envelope, which is empty unless the status is [`ANSWERED`].
    pub fn check_json(
        handle: u32,
        ask: &[u8; ASK_BYTES],
        answer: &mut [u8; ANSWER_BYTES],
    ) -> (u32, String) {
        let Some(ask) = CompactAsk::read(ask) else {
            return (ASK_JSON, String::new());
        };
        with_checks(|checks| {
            let entry = checks
                .get(handle.wrapping_sub(1) as usize)
                .and_then(Option::as_ref);
            let Some(entry) = entry else {
                return (STALE_HANDLE, String::new());
            };
            match entry.expansion.check(&entry.compiled, &ask) {
                Ok((compact, envelope)) => {
                    *answer = compact.write();
                    (ANSWERED, envelope)
                }
                Err(_) => (ASK_JSON, String::new()),
            }
        })
    }

    /// Makes the handles of a bundle's license stale (every license of it
    /// when `license` is `None`).
    pub fn forget(bundle: u32, license: Option<&str>) {
        with_checks(|checks| {
            for slot in checks.iter_mut() {
                let stale = slot.as_ref().is_some_and(|e| {
                    e.bundle == bundle
                        && license.is_none_or(|id| e.compiled.license().license.as_str() == id)
                });
                if stale {
                    *slot = None;
                }
            }
        });
    }

    fn refused(detail: &str) -> String {
        entitle_core::api::not_json(detail)
    }
}

#[cfg(target_arch = "wasm32")]
mod exports {
    use entitle_core::{ANSWER_BYTES, ASK_BYTES};

    use super::calls;

    /// Compiles a loaded license for checks of one feature (`kind` 0) or
    /// metric (`kind` 1); writes the handle at `handle_out` (`0` when refused).
    ///
    /// # Safety
    /// `lic_ptr..lic_ptr + lic_len` and `name_ptr..name_ptr + name_len` must be
    /// initialised memory the caller owns, and `handle_out..handle_out + 4`
    /// writable memory the caller owns (or `0`).
    #[no_mangle]
    pub unsafe extern "C" fn entitle_compact_resolve(
        bundle: u32,
        lic_ptr: u32,
        lic_len: u32,
        name_ptr: u32,
        name_len: u32,
        kind: u32,
        handle_out: u32,
    ) -> u64 {
        // SAFETY: forwarded from this function's contract.
        let (license, name) = unsafe {
            (
                super::super::exports::input(lic_ptr, lic_len),
                super::super::exports::input(name_ptr, name_len),
            )
        };
        let (handle, envelope) = calls::resolve(bundle, license, name, kind);
        // SAFETY: forwarded from this function's contract.
        unsafe { super::super::exports::write_handle(handle, handle_out) };
        super::super::exports::respond(envelope)
    }

    /// The compact check: reads 64 bytes at `ask`, writes 136 at `answer`.
    ///
    /// # Safety
    /// `ask..ask + 64` must be initialised memory the caller owns and
    /// `answer..answer + 136` writable memory the caller owns; they may be
    /// the same memory.
    #[no_mangle]
    pub unsafe extern "C" fn entitle_compact_check(handle: u32, ask: u32, answer: u32) -> u32 {
        let mut read = [0u8; ASK_BYTES];
        let mut written = [0u8; ANSWER_BYTES];
        // SAFETY: the caller guarantees 64 initialised bytes at `ask`; u8
        // has no alignment requirement and the copy ends before any write.
        unsafe {
            std::ptr::copy_nonoverlapping(ask as usize as *const u8, read.as_mut_ptr(), ASK_BYTES);
        }
        let status = calls::check(handle, &read, &mut written);
        if status == calls::ANSWERED {
            // SAFETY: the caller guarantees 136 writable bytes at `answer`.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    written.as_ptr(),
                    answer as usize as *mut u8,
                    ANSWER_BYTES,
                );
            }
        }
        status
    }

    /// The compact check with the full answer: reads 64 bytes at `ask`;
    /// when it answers, writes 136 at `answer` and responds with the JSON
    /// envelope of the same check (`(ptr << 32) | len`, freed by the caller
    /// with `entitle_free`). Otherwise the high half is `0` and the low half
    /// the status (`1` stale handle, `2` ask the JSON entry), as
    /// `entitle_compact_check` returns it.
    ///
    /// # Safety
    /// As for `entitle_compact_check`.
    #[no_mangle]
    pub unsafe extern "C" fn entitle_compact_check_json(handle: u32, ask: u32, answer: u32) -> u64 {
        let mut read = [0u8; ASK_BYTES];
        let mut written = [0u8; ANSWER_BYTES];
        // SAFETY: the caller guarantees 64 initialised bytes at `ask`; u8
        // has no alignment requirement and the copy ends before any write.
        unsafe {
            std::ptr::copy_nonoverlapping(ask as usize as *const u8, read.as_mut_ptr(), ASK_BYTES);
        }
        let (status, envelope) = calls::check_json(handle, &read, &mut written);
        if status != calls::ANSWERED {
            return u64::from(status);
        }
        // SAFETY: the caller guarantees 136 writable bytes at `answer`.
        unsafe {
            std::ptr::copy_nonoverlapping(
                written.as_ptr(),
                answer as usize as *mut u8,
                ANSWER_BYTES,
            );
        }
        super::super::exports::respond(envelope)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use entitle_core::{ANSWER_BYTES, ASK_BYTES};

    use super::calls;
    use crate::abi::calls as bundles;

    fn example(name: &str) -> Vec<u8> {
        let path = format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(path).unwrap()
    }

    /// Whether a compiled check's handle is still served (answered or sent
    /// to the JSON entry, but not stale).
    fn served(handle: u32) -> bool {
        let mut answer = [0u8; ANSWER_BYTES];
        calls::check(handle, &[0u8; ASK_BYTES], &mut answer) != calls::STALE_HANDLE
    }

    #[test]
    fn only_a_license_loaded_anew_makes_its_compiled_checks_stale() {
        let license = example("license.json");
        let text = String::from_utf8(license.clone()).unwrap();
        let (bundle, describe) = bundles::bundle_load(&example("bundle.json"));
        assert_ne!(bundle, 0, "{describe}");
        let loaded = bundles::bundle_load_license(bundle, &license);
        assert!(loaded.starts_with(r#"{"outcome":"ok","#), "{loaded}");
        let (handle, envelope) = calls::resolve(bundle, b"lic_7Q2M9", b"audit_log", 0);
        assert_ne!(handle, 0, "{envelope}");
        assert!(served(handle));

        // Error answers from the same bundle leave the checks alone: bytes
        // that are not JSON, and the same license id refused by validation.
        let refused = text.replace(r#""tier": "team""#, r#""tier": "no_such_tier""#);
        assert_ne!(refused, text);
        for bytes in [&b"{"[..], refused.as_bytes()] {
            let answer = bundles::bundle_load_license(bundle, bytes);
            assert!(answer.starts_with(r#"{"outcome":"error","#), "{answer}");
            assert!(served(handle), "stale after {answer}");
        }
        // So does an unknown bundle handle's error.
        let answer = bundles::bundle_load_license(0, &license);
        assert_eq!(answer, entitle_core::api::unknown_bundle_handle(0));
        assert!(served(handle));

        // Another license loaded: this one's checks stay.
        let other = text.replace("lic_7Q2M9", "lic_other");
        let answer = bundles::bundle_load_license(bundle, other.as_bytes());
        assert!(
            answer.contains(r#""result":{"license":"lic_other","#),
            "{answer}"
        );
        assert!(served(handle));

        // The same license loaded anew: its checks are stale.
        let answer = bundles::bundle_load_license(bundle, &license);
        assert!(
            answer.contains(r#""result":{"license":"lic_7Q2M9","#),
            "{answer}"
        );
        assert!(!served(handle));
        bundles::bundle_free(bundle);
    }
}
