//! Cargo features: a layer kind (or the OTLP gRPC protocol) that the library was built without
//! is a `FEATURE_DISABLED` error naming the feature; what was built in works. `scripts/test`
//! runs this file also with `--no-default-features --features js`.

use tracing_bridge::{ErrorKind, Session};

/// The error of a config holding only `layer`, or `None` if it builds.
fn error_of(layer: &str) -> Option<tracing_bridge::Error> {
    Session::from_json(&format!(r#"{{"layers":[{layer}]}}"#)).err()
}

fn assert_needs_feature(layer: &str, what: &str, feature: &str) {
    let error = error_of(layer).expect("refused");
    assert_eq!(error.kind(), ErrorKind::FeatureDisabled, "{error}");
    let expected = format!(
        "layers[0]: {what} needs the cargo feature \"{feature}\" of tracing-bridge, which this \
         library was built without"
    );
    assert!(error.message().starts_with(&expected), "{error}");
}

fn assert_builds(layer: &str) {
    if let Some(error) = error_of(layer) {
        panic!("{layer}: {error}");
    }
}

#[test]
fn fmt_is_always_there_and_records() {
    let mut session =
        Session::from_json(r#"{"layers":[{"kind":"fmt","writer":"stderr","filter":"debug"}]}"#)
            .unwrap();
    session.install_current_thread().unwrap();
    tracing::info_span!("work").in_scope(|| tracing::info!("recorded"));
    session.uninstall().unwrap();
}

#[test]
fn each_kind_builds_or_names_its_feature() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| {
        dir.path()
            .join(name)
            .display()
            .to_string()
            .replace('\\', "/")
    };
    let cases = [
        (
            r#"{"kind":"js"}"#.to_owned(),
            "js",
            "js",
            cfg!(feature = "js"),
        ),
        (
            format!(r#"{{"kind":"timeline","path":"{}"}}"#, path("t.json")),
            "timeline",
            "timeline",
            cfg!(feature = "timeline"),
        ),
        (
            format!(r#"{{"kind":"flame","path":"{}"}}"#, path("f.folded")),
            "flame",
            "flame",
            cfg!(feature = "flame"),
        ),
        (
            r#"{"kind":"otlp","protocol":"http/protobuf"}"#.to_owned(),
            "otlp",
            "otlp",
            cfg!(feature = "otlp"),
        ),
        (
            r#"{"kind":"otlpJson","writer":"stderr"}"#.to_owned(),
            "otlpJson",
            "otlp",
            cfg!(feature = "otlp"),
        ),
    ];
    for (layer, kind, feature, built_in) in cases {
        if built_in {
            assert_builds(&layer);
        } else {
            assert_needs_feature(&layer, &format!("layer kind \"{kind}\""), feature);
        }
    }
}

#[test]
fn grpc_needs_its_feature() {
    let layer = r#"{"kind":"otlp","protocol":"grpc"}"#;
    if cfg!(feature = "grpc") {
        assert_builds(layer);
    } else if cfg!(feature = "otlp") {
        assert_needs_feature(layer, "protocol \"grpc\"", "grpc");
    } else {
        assert_needs_feature(layer, "layer kind \"otlp\"", "otlp");
    }
}

#[test]
fn flame_rendering_names_its_feature_when_left_out() {
    let request = br#"{"folded":"/nonexistent.folded","svg":"/nonexistent.svg"}"#;
    let result = unsafe {
        tracing_bridge::ffi::tracing_bridge_flame_render_svg(
            request.as_ptr(),
            request.len(),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
        )
    };
    if cfg!(feature = "flame") {
        assert_eq!(result, ErrorKind::FileNotReadable);
    } else {
        assert_eq!(result, ErrorKind::FeatureDisabled);
    }
}
