//! What every finding carries: the quoted source line, except where it may hold a secret.

use evident_iac::{Options, scan};

#[test]
fn findings_quote_the_line_but_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM alpine:3.20\nENV API_TOKEN=Zq8fLr2xVb7Kw1Mn4Pt6\nADD https://example.com/tool.tgz /opt/\nUSER 10001\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: web\nspec:\n  containers:\n    - name: c\n      image: alpine:3.20\n      env:\n        - name: DB_PASSWORD\n          value: Zq8fLr2xVb7Kw1Mn4Pt6\n      securityContext:\n        privileged: true\n",
    )
    .unwrap();
    let report = scan(dir.path(), &Options::default());
    let text = serde_json::to_string(&report).unwrap();
    assert!(!text.contains("Zq8fLr2xVb7Kw1Mn4Pt6"), "{text}");
    let by = |check: &str| {
        report
            .findings
            .iter()
            .find(|f| f.check == check)
            .unwrap_or_else(|| panic!("no {check}: {text}"))
    };
    assert!(by("docker-secret-in-env").snippet.is_none());
    assert!(by("k8s-secret-in-env").snippet.is_none());
    assert_eq!(
        by("docker-add-remote-url").snippet.as_deref(),
        Some("ADD https://example.com/tool.tgz /opt/")
    );
    assert_eq!(
        by("k8s-privileged-container").snippet.as_deref(),
        Some("privileged: true")
    );
}
