//! The one error type of the host: everything that can go wrong around the
//! engine (files, the module, wasmtime, the command line). What the engine
//! says about a document is never a `HostError`: it is an error envelope.

use std::path::Path;

/// Everything the host can fail at. `code()` is stable; messages are
/// lowercase, without a trailing period, with input in backticks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// A file (or stdin, named `-`) could not be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The path as given.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A file could not be written (or already exists where a new one is made).
    #[error("cannot write `{path}`: {source}")]
    WriteFile {
        /// The path.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A key file that is not an Ed25519 key in the PEM the CLI reads.
    #[error("`{path}` is not an ed25519 private key in pkcs#8 pem: {detail}")]
    Key {
        /// The file (or the key id of a key being made).
        path: String,
        /// What the decoder said.
        detail: String,
    },
    /// Output could not be written.
    #[error("cannot write the answer: {source}")]
    Write {
        /// What the OS said.
        source: std::io::Error,
    },
    /// A document given to the CLI is not JSON.
    #[error("`{path}` is not valid json: {detail}")]
    InvalidDocument {
        /// The path as given.
        path: String,
        /// What the parser saw.
        detail: String,
    },
    /// The command line asks for something inconsistent.
    #[error("{0}")]
    Usage(String),
    /// The wasmtime engine could not be configured.
    #[error("cannot set up the wasm engine: {detail}")]
    EngineSetup {
        /// What wasmtime said.
        detail: String,
    },
    /// The module file is not a module wasmtime can compile.
    #[error("cannot compile `{module}`: {detail}")]
    Compile {
        /// The module's path (or `<bytes>`).
        module: String,
        /// What wasmtime said.
        detail: String,
    },
    /// The module imports from outside the wasm-bindgen glue's namespace.
    #[error("the module imports `{module}.{name}`, outside the glue namespace `{allowed}`")]
    ForbiddenImport {
        /// The import's module name.
        module: String,
        /// The import's field name.
        name: String,
        /// The one namespace allowed.
        allowed: &'static str,
    },
    /// The module imports something other than a function, which cannot be
    /// linked as a trap.
    #[error("the module imports `{module}.{name}` as a {kind}, only functions can be linked")]
    UnsupportedImport {
        /// The import's module name.
        module: String,
        /// The import's field name.
        name: String,
        /// What it imports (table, memory, global, tag).
        kind: &'static str,
    },
    /// An export of the byte ABI is missing or has the wrong type.
    #[error("the module has no export `{name}` of type `{expected}`")]
    MissingExport {
        /// The export's name.
        name: &'static str,
        /// Its expected wasm signature.
        expected: &'static str,
    },
    /// The module speaks another version of the byte ABI.
    #[error("the module speaks abi `{found}`, this host speaks abi {expected}")]
    AbiMismatch {
        /// The module's `entitle_abi_version()`.
        found: u32,
        /// The host's.
        expected: u32,
    },
    /// Instantiation failed.
    #[error("cannot instantiate the module: {detail}")]
    Instantiate {
        /// What wasmtime said.
        detail: String,
    },
    /// The module called an import, all of which are linked as traps.
    #[error("the module called the import `{import}`, which the byte abi must never call")]
    ImportCalled {
        /// `module.name` of the import.
        import: String,
    },
    /// The call ran past its deadline.
    #[error("the module ran past its deadline of {millis} ms")]
    Timeout {
        /// The deadline each call gets.
        millis: u128,
    },
    /// The module tried to grow a memory or table past the store's limit.
    #[error("the module tried to grow its {resource} to {desired}, past the limit of {limit}")]
    LimitExceeded {
        /// `memory` (bytes) or `table` (elements).
        resource: &'static str,
        /// The size it asked for.
        desired: usize,
        /// The limit.
        limit: usize,
    },
    /// The module trapped for another reason (stack overflow, `unreachable`
    /// after an allocation failure...).
    #[error("the module trapped: {detail}")]
    Trap {
        /// What wasmtime said.
        detail: String,
    },
    /// `entitle_alloc` returned 0.
    #[error("the module could not allocate {len} bytes")]
    AllocFailed {
        /// The size asked for.
        len: usize,
    },
    /// The request does not fit the 32-bit ABI.
    #[error("the request has {len} bytes, more than the abi can pass")]
    TooLarge {
        /// Its size.
        len: usize,
    },
    /// The module answered with something that is not a response.
    #[error("the module answered with {detail}")]
    BadResponse {
        /// What is wrong with it.
        detail: String,
    },
    /// The gateway's meter database failed.
    #[error("the meter database failed: {detail}")]
    Store {
        /// What SQLite said.
        detail: String,
    },
    /// The module refused a document the gateway was told to load.
    #[error("`{path}` was refused: {detail}")]
    Refused {
        /// The document's file.
        path: String,
        /// The codes and paths of the module's errors.
        detail: String,
    },
    /// The gateway could not listen or serve.
    #[error("cannot serve on `{addr}`: {detail}")]
    Serve {
        /// The address.
        addr: String,
        /// What the OS said.
        detail: String,
    },
}

impl HostError {
    /// A stable, documented code for the error.
    pub fn code(&self) -> &'static str {
        match self {
            HostError::Read { .. } => "read_failed",
            HostError::Write { .. } => "write_failed",
            HostError::WriteFile { .. } => "write_file_failed",
            HostError::Key { .. } => "invalid_key",
            HostError::InvalidDocument { .. } => "invalid_document",
            HostError::Usage(_) => "usage",
            HostError::EngineSetup { .. } => "engine_setup_failed",
            HostError::Compile { .. } => "compile_failed",
            HostError::ForbiddenImport { .. } => "forbidden_import",
            HostError::UnsupportedImport { .. } => "unsupported_import",
            HostError::MissingExport { .. } => "missing_export",
            HostError::AbiMismatch { .. } => "abi_mismatch",
            HostError::Instantiate { .. } => "instantiate_failed",
            HostError::ImportCalled { .. } => "import_called",
            HostError::Timeout { .. } => "timeout",
            HostError::LimitExceeded { .. } => "limit_exceeded",
            HostError::Trap { .. } => "trap",
            HostError::AllocFailed { .. } => "alloc_failed",
            HostError::TooLarge { .. } => "too_large",
            HostError::BadResponse { .. } => "bad_response",
            HostError::Store { .. } => "store_failed",
            HostError::Refused { .. } => "document_refused",
            HostError::Serve { .. } => "serve_failed",
        }
    }

    /// A read failure for `path`.
    pub(crate) fn read(path: &Path, source: std::io::Error) -> Self {
        HostError::Read {
            path: path.display().to_string(),
            source,
        }
    }
}
