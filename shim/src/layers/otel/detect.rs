//! The resource attributes detected from the process and the host, as the OpenTelemetry SDKs'
//! process, host and OS detectors find them: `process.pid`, `process.executable.name`,
//! `process.runtime.name` and `process.runtime.version` (from the config document's `runtime`,
//! which the bindings fill in with `deno` or `bun` and its version), `host.name` and `os.type`.
//! They rank below `OTEL_RESOURCE_ATTRIBUTES` and the config's `resource` (see `sdk.rs`);
//! `detectResource: false` leaves them out.

use opentelemetry::Value;

use crate::{config::RuntimeConfig, error::Error};

/// The detected attributes, in a fixed order. An attribute that cannot be found (no
/// executable path, an unknown OS) is left out.
pub(crate) fn detected_attributes(
    runtime: Option<&RuntimeConfig>,
) -> Result<Vec<(&'static str, Value)>, Error> {
    let mut attributes: Vec<(&'static str, Value)> =
        vec![("process.pid", Value::from(i64::from(std::process::id())))];
    if let Some(name) = executable_name() {
        attributes.push(("process.executable.name", Value::from(name)));
    }
    if let Some(runtime) = runtime {
        if runtime.name.trim().is_empty() {
            return Err(Error::invalid_config(
                "`runtime.name` is empty; name the runtime that loaded the library (e.g. \
                 \"deno\") or leave `runtime` out"
                    .to_owned(),
            ));
        }
        attributes.push(("process.runtime.name", Value::from(runtime.name.clone())));
        if let Some(version) = runtime
            .version
            .as_ref()
            .filter(|version| !version.is_empty())
        {
            attributes.push(("process.runtime.version", Value::from(version.clone())));
        }
    }
    if let Some(name) = host_name() {
        attributes.push(("host.name", Value::from(name)));
    }
    if let Some(os) = os_type(std::env::consts::OS) {
        attributes.push(("os.type", Value::from(os)));
    }
    Ok(attributes)
}

/// The file name of the program's executable (`deno`, `bun`).
fn executable_name() -> Option<String> {
    let path = std::env::current_exe().ok()?;
    let name = path.file_name()?.to_string_lossy().into_owned();
    (!name.is_empty()).then_some(name)
}

/// The host's name, as `gethostname` (Unix) or `COMPUTERNAME` (Windows) gives it.
fn host_name() -> Option<String> {
    #[cfg(unix)]
    {
        let mut buffer = [0u8; 256];
        // SAFETY: the buffer is writable for its whole length, which is passed with it.
        let result = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
        if result != 0 {
            return None;
        }
        let end = buffer.iter().position(|&byte| byte == 0)?;
        let name = String::from_utf8_lossy(&buffer[..end]).into_owned();
        (!name.is_empty()).then_some(name)
    }
    #[cfg(not(unix))]
    {
        std::env::var("COMPUTERNAME")
            .ok()
            .filter(|name| !name.is_empty())
    }
}

/// `os.type` as the semantic conventions spell it, from Rust's `std::env::consts::OS`.
fn os_type(os: &str) -> Option<&'static str> {
    Some(match os {
        "linux" => "linux",
        "macos" => "darwin",
        "windows" => "windows",
        "freebsd" => "freebsd",
        "netbsd" => "netbsd",
        "openbsd" => "openbsd",
        "dragonfly" => "dragonflybsd",
        "solaris" | "illumos" => "solaris",
        "aix" => "aix",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(attributes: &'a [(&'static str, Value)], key: &str) -> Option<&'a Value> {
        attributes
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| value)
    }

    #[test]
    fn the_process_the_host_and_the_given_runtime_are_detected() {
        let runtime = RuntimeConfig {
            name: "deno".into(),
            version: Some("2.5.6".into()),
        };
        let attributes = detected_attributes(Some(&runtime)).unwrap();
        assert_eq!(
            find(&attributes, "process.pid"),
            Some(&Value::I64(i64::from(std::process::id())))
        );
        let executable = std::env::current_exe().unwrap();
        assert_eq!(
            find(&attributes, "process.executable.name").map(Value::as_str),
            Some(executable.file_name().unwrap().to_string_lossy())
        );
        assert_eq!(
            find(&attributes, "process.runtime.name").map(Value::as_str),
            Some("deno".into())
        );
        assert_eq!(
            find(&attributes, "process.runtime.version").map(Value::as_str),
            Some("2.5.6".into())
        );
        let host = find(&attributes, "host.name")
            .expect("a host name")
            .as_str();
        assert!(!host.is_empty());
        #[cfg(target_os = "linux")]
        assert_eq!(
            find(&attributes, "os.type").map(Value::as_str),
            Some("linux".into())
        );
    }

    #[test]
    fn without_a_runtime_there_is_no_process_runtime() {
        let attributes = detected_attributes(None).unwrap();
        assert!(find(&attributes, "process.runtime.name").is_none());
        assert!(find(&attributes, "process.runtime.version").is_none());
        assert!(find(&attributes, "process.pid").is_some());
        let empty = RuntimeConfig {
            name: " ".into(),
            version: None,
        };
        let error = detected_attributes(Some(&empty)).unwrap_err();
        assert!(error.message().contains("`runtime.name` is empty"));
    }

    #[test]
    fn os_types_follow_the_semantic_conventions() {
        assert_eq!(os_type("macos"), Some("darwin"));
        assert_eq!(os_type("windows"), Some("windows"));
        assert_eq!(os_type("dragonfly"), Some("dragonflybsd"));
        assert_eq!(os_type("plan9"), None);
    }
}
