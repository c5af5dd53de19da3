//! The registry client against a real registry (Debian's `docker-registry`, started by
//! the test) and against loopback servers that answer what no registry should: garbage,
//! a 3 GB blob, bytes that are not their digest.
#![cfg(feature = "registry")]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;

use otai_plugin_desk::registry::{
    Credentials, Reference, RegistryClient, RegistryError, RegistryOptions, digest_of,
};
use otai_plugin_test_support::{Module, REGISTRY_PASSWORD, REGISTRY_USER, Registry};

fn module(version: &str) -> Vec<u8> {
    Module::new()
        .body(r#"(func (export "on_event") (param i32 i32))"#)
        .manifest(&format!(
            r#"{{"id":"com.example.shipped","name":"Shipped","version":"{version}","description":"Shipped from a registry.","events":["ticket.created"]}}"#
        ))
        .wasm()
}

fn reference(text: &str) -> Reference {
    Reference::parse(text).unwrap()
}

#[test]
fn a_pushed_module_is_pulled_back_pinned_to_its_digest() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let client = RegistryClient::new(RegistryOptions::default());
    let tag = reference(&format!("oci://{}/acme/shipped:1.0.0", registry.address()));
    assert_eq!(client.resolve(&tag).unwrap(), None, "nothing is there yet");

    let first = module("1.0.0");
    let annotations = BTreeMap::from([(
        "org.opencontainers.image.title".to_owned(),
        "Shipped".to_owned(),
    )]);
    let pushed = client.push(&tag, &first, annotations).unwrap();
    assert_eq!(pushed.module_digest, digest_of(&first));
    assert_eq!(pushed.reference.digest(), Some(pushed.digest.as_str()));

    let pulled = client.pull(&tag).unwrap();
    assert_eq!(pulled.module, first);
    assert_eq!(pulled.digest, pushed.digest);
    assert_eq!(
        pulled.reference.to_string(),
        format!("{tag}@{}", pushed.digest)
    );
    assert_eq!(
        pulled.manifest.annotations["org.opencontainers.image.title"],
        "Shipped"
    );
    assert_eq!(
        pulled.manifest.config.media_type,
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(pulled.manifest.layers[0].media_type, "application/wasm");

    // The tag moves to other content: the pinned reference still gives the first bytes.
    let second = module("1.0.1");
    client.push(&tag, &second, BTreeMap::new()).unwrap();
    assert_eq!(client.pull(&tag).unwrap().module, second);
    assert_eq!(client.pull(&pulled.reference).unwrap().module, first);

    // A digest the registry does not have.
    let absent = tag.pinned(&digest_of(b"nothing"));
    assert!(matches!(
        client.pull(&absent),
        Err(RegistryError::NotFound { .. })
    ));
}

#[test]
fn a_registry_with_htpasswd_wants_the_credentials_and_takes_them() {
    let Some(registry) = Registry::with_htpasswd() else {
        return;
    };
    let tag = reference(&format!("oci://{}/acme/private:1.0.0", registry.address()));
    let anonymous = RegistryClient::new(RegistryOptions::default());
    let error = anonymous
        .push(&tag, &module("1.0.0"), BTreeMap::new())
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, RegistryError::Unauthorized { status: 401, .. }),
        "{message}"
    );
    assert!(message.contains("no credentials were given"), "{message}");
    assert!(message.contains("OTAI_REGISTRY_PASSWORD"), "{message}");

    let wrong = RegistryClient::new(RegistryOptions {
        credentials: Some(Credentials {
            username: REGISTRY_USER.to_owned(),
            password: "wrong".to_owned(),
        }),
        ..RegistryOptions::default()
    });
    let message = wrong.pull(&tag).unwrap_err().to_string();
    assert!(
        message.contains("the credentials were refused"),
        "{message}"
    );

    let client = RegistryClient::new(RegistryOptions {
        credentials: Some(Credentials {
            username: REGISTRY_USER.to_owned(),
            password: REGISTRY_PASSWORD.to_owned(),
        }),
        ..RegistryOptions::default()
    });
    client
        .push(&tag, &module("1.0.0"), BTreeMap::new())
        .unwrap();
    assert_eq!(client.pull(&tag).unwrap().module, module("1.0.0"));
}

#[test]
fn a_registry_that_is_down_is_a_clear_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = RegistryClient::new(RegistryOptions::default());
    let error = client
        .pull(&reference(&format!("oci://127.0.0.1:{port}/acme/x:1")))
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, RegistryError::Unreachable { .. }),
        "{message}"
    );
    assert!(
        message.contains(&format!("`127.0.0.1:{port}` cannot be reached")),
        "{message}"
    );
}

/// What the fake registry answers a request with.
pub(crate) enum Answer {
    /// Status line's code, content type and body.
    Body(u16, &'static str, Vec<u8>),
    /// A 200 whose `Content-Length` says this many bytes, of which a few are sent.
    Declares(u64),
    /// A 200 without a length that never ends.
    Endless,
    /// A 401 asking for basic credentials.
    Challenge,
    /// A 202 whose `Location` is this URL.
    Upload(String),
    /// A 401 with this `WWW-Authenticate`.
    Bearer(String),
}

/// A loopback server answering each request by its head (request line and headers),
/// one request per connection, for the test's lifetime.
pub(crate) fn fake_registry(route: impl Fn(&str) -> Answer + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            match route(&head) {
                Answer::Body(status, content_type, body) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(&body);
                }
                Answer::Declares(length) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"
                    );
                    let _ = stream.write_all(&[0u8; 4096]);
                }
                Answer::Challenge => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Basic realm=\"x\"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                }
                Answer::Bearer(challenge) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: {challenge}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                }
                Answer::Upload(location) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 202 Accepted\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                }
                Answer::Endless => {
                    let _ = write!(stream, "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n");
                    let chunk = vec![0u8; 64 * 1024];
                    // Until the client hangs up.
                    while stream.write_all(&chunk).is_ok() {}
                }
            }
        }
    });
    address
}

pub(crate) fn manifest_with_layer(digest: &str, size: u64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.wasm.config.v0+json", "digest": digest_of(b"{}"), "size": 2},
        "layers": [{"mediaType": "application/wasm", "digest": digest, "size": size}]
    }))
    .unwrap()
}

pub(crate) const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

#[test]
fn a_manifest_that_is_garbage_is_a_clear_error() {
    let address = fake_registry(|_| Answer::Body(200, MANIFEST, b"<html>hello</html>".to_vec()));
    let client = RegistryClient::new(RegistryOptions::default());
    let error = client
        .pull(&reference(&format!("oci://{address}/acme/x:1")))
        .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, RegistryError::Protocol { .. }), "{message}");
    assert!(
        message.contains("not an OCI image manifest's JSON"),
        "{message}"
    );
}

#[test]
fn a_docker_image_is_not_a_plugin() {
    let address = fake_registry(|_| {
        Answer::Body(
            200,
            MANIFEST,
            serde_json::to_vec(&serde_json::json!({
                "schemaVersion": 2,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest_of(b"{}"), "size": 2},
                "layers": []
            }))
            .unwrap(),
        )
    });
    let client = RegistryClient::new(RegistryOptions::default());
    let message = client
        .pull(&reference(&format!("oci://{address}/acme/x:1")))
        .unwrap_err()
        .to_string();
    assert!(message.contains("is not a WebAssembly plugin"), "{message}");
    assert!(message.contains("not a Wasm artifact's"), "{message}");
}

#[test]
fn an_endless_manifest_is_refused_at_its_bound() {
    let address = fake_registry(|_| Answer::Endless);
    let client = RegistryClient::new(RegistryOptions::default());
    let message = client
        .pull(&reference(&format!("oci://{address}/acme/x:1")))
        .unwrap_err()
        .to_string();
    assert!(message.contains("the manifest of"), "{message}");
    assert!(message.contains("more than 4194304 bytes"), "{message}");
}

/// A limit of 1 MiB keeps the test fast; the client's reads are the same at 32 MiB.
fn small_limit() -> RegistryClient {
    RegistryClient::new(RegistryOptions {
        max_module_size: 1024 * 1024,
        ..RegistryOptions::default()
    })
}

#[test]
fn a_3_gb_blob_is_refused_by_its_length_before_it_is_read() {
    let digest = digest_of(b"anything");
    let manifest = manifest_with_layer(&digest, 1000);
    let address = fake_registry(move |head| {
        if head.contains("/manifests/") {
            Answer::Body(200, MANIFEST, manifest.clone())
        } else {
            Answer::Declares(3_000_000_000)
        }
    });
    let message = small_limit()
        .pull(&reference(&format!("oci://{address}/acme/x:1")))
        .unwrap_err()
        .to_string();
    assert!(message.contains("the module of"), "{message}");
    assert!(
        message.contains("3000000000 bytes (as the registry says)"),
        "{message}"
    );
}

#[test]
fn a_blob_without_a_length_is_read_only_to_the_limit() {
    let digest = digest_of(b"anything");
    let manifest = manifest_with_layer(&digest, 1000);
    let address = fake_registry(move |head| {
        if head.contains("/manifests/") {
            Answer::Body(200, MANIFEST, manifest.clone())
        } else {
            Answer::Endless
        }
    });
    let message = small_limit()
        .pull(&reference(&format!("oci://{address}/acme/x:1")))
        .unwrap_err()
        .to_string();
    assert!(message.contains("more than 1048576 bytes"), "{message}");
}

#[test]
fn a_manifest_that_declares_a_module_over_the_limit_is_refused_before_the_blob() {
    let manifest = manifest_with_layer(&digest_of(b"anything"), 3_000_000_000);
    let address = fake_registry(move |path| {
        assert!(
            path.contains("/manifests/"),
            "the blob was asked for: {path}"
        );
        Answer::Body(200, MANIFEST, manifest.clone())
    });
    let message = small_limit()
        .pull(&reference(&format!("oci://{address}/acme/x:1")))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("3000000000 bytes (as its manifest says)"),
        "{message}"
    );
}

#[test]
fn bytes_that_are_not_their_digest_are_refused() {
    let manifest = manifest_with_layer(&digest_of(b"the module"), 10);
    let served = manifest.clone();
    let address = fake_registry(move |head| {
        if head.contains("/manifests/") {
            Answer::Body(200, MANIFEST, served.clone())
        } else {
            Answer::Body(200, "application/wasm", b"another on".to_vec())
        }
    });
    let client = RegistryClient::new(RegistryOptions::default());
    let tag = reference(&format!("oci://{address}/acme/x:1"));
    let error = client.pull(&tag).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(
            error,
            RegistryError::Digest {
                what: "the module",
                ..
            }
        ),
        "{message}"
    );

    // A pinned manifest whose bytes are not that digest.
    let pinned = tag.pinned(&digest_of(b"another manifest"));
    let error = client.pull(&pinned).unwrap_err();
    assert!(
        matches!(
            error,
            RegistryError::Digest {
                what: "the manifest",
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn a_module_pulled_from_a_registry_is_installed_with_its_pinned_reference() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let client = RegistryClient::new(RegistryOptions::default());
    let tag = reference(&format!("oci://{}/acme/shipped:latest", registry.address()));
    client
        .push(&tag, &module("1.0.0"), BTreeMap::new())
        .unwrap();
    let first = client.pull(&tag).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let desk = otai_plugin_desk::Desk::open_with(
        dir.path(),
        otai_plugin_desk::DeskOptions {
            key: Some("cd".repeat(32)),
            ..Default::default()
        },
    )
    .unwrap();
    let info = desk.install_pulled(&first, Default::default()).unwrap();
    assert_eq!(
        info.source.as_deref(),
        Some(first.reference.to_string().as_str())
    );

    client
        .push(&tag, &module("1.1.0"), BTreeMap::new())
        .unwrap();
    let second = client.pull(&tag).unwrap();
    assert_ne!(second.digest, first.digest);
    let up = desk
        .upgrade_pulled(&second, false, Default::default())
        .unwrap();
    assert_eq!(up.plugin.source, Some(second.reference.to_string()));

    // A rollback returns to the first version, and to where it came from.
    let back = desk.rollback("com.example.shipped").unwrap();
    assert_eq!(back.source, Some(first.reference.to_string()));
    // A file installs with no source.
    desk.remove("com.example.shipped").unwrap();
    assert_eq!(desk.install(&module("1.0.0")).unwrap().source, None);
}

#[test]
fn credentials_are_never_sent_to_an_upload_location_on_another_host() {
    let (seen_tx, seen_rx) = std::sync::mpsc::channel::<String>();
    let elsewhere = fake_registry(move |head| {
        let _ = seen_tx.send(head.to_owned());
        Answer::Body(201, "text/plain", Vec::new())
    });
    let address = fake_registry(move |head| {
        if !head.to_ascii_lowercase().contains("authorization: basic") {
            return Answer::Challenge;
        }
        if head.starts_with("HEAD ") {
            Answer::Body(404, "text/plain", Vec::new())
        } else if head.starts_with("POST ") {
            Answer::Upload(format!("http://{elsewhere}/upload?state=1"))
        } else {
            Answer::Body(500, "text/plain", b"stop here".to_vec())
        }
    });
    let client = RegistryClient::new(RegistryOptions {
        credentials: Some(Credentials {
            username: "user".to_owned(),
            password: "secret".to_owned(),
        }),
        ..RegistryOptions::default()
    });
    let tag = reference(&format!("oci://{address}/acme/x:1"));
    // The blob goes to the other host; the manifest PUT then fails at the registry.
    let _ = client.push(&tag, b"\0asm\x01\0\0\0", BTreeMap::new());
    let uploads: Vec<String> = seen_rx.try_iter().collect();
    assert!(
        !uploads.is_empty(),
        "nothing was uploaded to the other host"
    );
    for head in uploads {
        assert!(
            head.starts_with("PUT /upload?state=1&digest=sha256:"),
            "{head}"
        );
        assert!(
            !head.to_ascii_lowercase().contains("authorization"),
            "{head}"
        );
    }
}

#[test]
fn a_bearer_challenge_is_answered_with_a_token_from_the_token_service() {
    let (asked_tx, asked_rx) = std::sync::mpsc::channel::<String>();
    let token_service = fake_registry(move |head| {
        let _ = asked_tx.send(head.to_owned());
        // base64("user:secret")
        if head.contains("authorization: Basic dXNlcjpzZWNyZXQ=") {
            Answer::Body(200, "application/json", br#"{"token":"t0ken"}"#.to_vec())
        } else {
            Answer::Body(
                401,
                "application/json",
                br#"{"details":"bad credentials"}"#.to_vec(),
            )
        }
    });
    let module = b"\0asm\x01\0\0\0".to_vec();
    let manifest = manifest_with_layer(&digest_of(&module), module.len() as u64);
    let registry = fake_registry(move |head| {
        if !head.contains("authorization: Bearer t0ken") {
            return Answer::Bearer(format!(
                r#"Bearer realm="http://{token_service}/token",service="fake",scope="repository:acme/x:pull""#
            ));
        }
        if head.contains("/manifests/") {
            Answer::Body(200, MANIFEST, manifest.clone())
        } else {
            Answer::Body(200, "application/wasm", module.clone())
        }
    });
    let tag = reference(&format!("oci://{registry}/acme/x:1"));
    let client = RegistryClient::new(RegistryOptions {
        credentials: Some(Credentials {
            username: "user".to_owned(),
            password: "secret".to_owned(),
        }),
        ..RegistryOptions::default()
    });
    assert_eq!(client.pull(&tag).unwrap().module, b"\0asm\x01\0\0\0");
    let asked: Vec<String> = asked_rx.try_iter().collect();
    // One token for the manifest and the blob: the second request reuses it.
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(
        asked[0].starts_with("GET /token?service=fake&scope=repository%3Aacme%2Fx%3Apull "),
        "{}",
        asked[0]
    );

    // Wrong credentials: the token service's refusal, with what to do.
    let wrong = RegistryClient::new(RegistryOptions {
        credentials: Some(Credentials {
            username: "user".to_owned(),
            password: "wrong".to_owned(),
        }),
        ..RegistryOptions::default()
    });
    let message = wrong.pull(&tag).unwrap_err().to_string();
    assert!(
        message.contains("the token service refused the credentials"),
        "{message}"
    );
    assert!(message.contains("OTAI_REGISTRY_PASSWORD"), "{message}");
}

#[test]
fn credentials_never_go_to_a_token_service_in_plain_http_on_another_machine() {
    // A registry on this machine names a token service elsewhere, in plain HTTP. The
    // address is never reached: the realm is refused before any request.
    let registry = fake_registry(|_| {
        Answer::Bearer(r#"Bearer realm="http://192.0.2.1/token",service="fake""#.to_owned())
    });
    let client = RegistryClient::new(RegistryOptions {
        credentials: Some(Credentials {
            username: "user".to_owned(),
            password: "secret".to_owned(),
        }),
        ..RegistryOptions::default()
    });
    let message = client
        .pull(&reference(&format!("oci://{registry}/acme/x:1")))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("a token realm `http://192.0.2.1/token` that is not HTTPS"),
        "{message}"
    );
}
