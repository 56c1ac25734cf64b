//! Image references (`[registry[:port]/]path[:tag][@digest]`), shared by the Dockerfile and the
//! Kubernetes checks, and the approved-registry rule.

/// A parsed image reference with Docker's defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageRef {
    /// Registry host (and port), lower case; Docker Hub's aliases become `docker.io`.
    pub registry: String,
    /// Repository path; official Docker Hub images get `library/` (`nginx` → `library/nginx`).
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// The names Docker Hub is reached by.
const DOCKER_HUB: &[&str] = &[
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];

impl ImageRef {
    /// Parses a reference as written. `None` when it cannot be judged: empty, or still holding
    /// a variable or template placeholder (`$TAG`, `${IMAGE}`, `{{ .Values.image }}`).
    pub fn parse(image: &str) -> Option<ImageRef> {
        let image = image.trim();
        if image.is_empty()
            || image.contains(['$', '{', '}', ' ', '\t'])
            || image.starts_with(['/', ':', '@'])
        {
            return None;
        }
        let (name_tag, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d.to_owned())),
            None => (image, None),
        };
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => (
                &name_tag[..last_slash + i],
                Some(name_tag[last_slash + i + 1..].to_owned()),
            ),
            None => (name_tag, None),
        };
        if name.is_empty() {
            return None;
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':']) || first.eq_ignore_ascii_case("localhost") =>
            {
                (first.to_ascii_lowercase(), rest.to_owned())
            }
            _ => ("docker.io".to_owned(), name.to_owned()),
        };
        let registry = if DOCKER_HUB.contains(&registry.as_str()) {
            "docker.io".to_owned()
        } else {
            registry
        };
        let path = if registry == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        Some(ImageRef {
            registry,
            path,
            tag: tag.filter(|t| !t.is_empty()),
            digest: digest.filter(|d| !d.is_empty()),
        })
    }

    /// `registry/path`, e.g. `docker.io/library/nginx`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.registry, self.path)
    }

    /// Neither a tag nor a digest, or the tag `latest` without a digest: what runs changes
    /// whenever the registry's `latest` moves.
    pub fn floating(&self) -> bool {
        self.digest.is_none() && self.tag.as_deref().is_none_or(|t| t == "latest")
    }

    /// Does one of `approved` (`registry.example.com`, `ghcr.io/acme`, `docker.io/library`)
    /// cover this image? An entry is a registry host, optionally followed by a path prefix
    /// that must end at a `/` boundary.
    pub fn approved_by(&self, approved: &[String]) -> bool {
        let full = self.full_name().to_ascii_lowercase();
        approved.iter().any(|entry| {
            let Some(entry) = normalize_entry(entry) else {
                return false;
            };
            full == entry
                || full
                    .strip_prefix(entry.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

/// An approved-registry entry as `host[/path]`, lower case, without scheme or trailing `/`,
/// Docker Hub's aliases as `docker.io`.
fn normalize_entry(entry: &str) -> Option<String> {
    let e = entry.trim();
    let e = e
        .strip_prefix("https://")
        .or_else(|| e.strip_prefix("http://"))
        .unwrap_or(e)
        .trim_end_matches('/')
        .to_ascii_lowercase();
    if e.is_empty() {
        return None;
    }
    let (host, rest) = match e.split_once('/') {
        Some((h, r)) => (h.to_owned(), Some(r.to_owned())),
        None => (e.clone(), None),
    };
    let host = if DOCKER_HUB.contains(&host.as_str()) {
        "docker.io".to_owned()
    } else {
        host
    };
    Some(match rest {
        Some(r) => format!("{host}/{r}"),
        None => host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap()
    }

    #[test]
    fn parses_references_with_docker_defaults() {
        let nginx = p("nginx");
        assert_eq!(nginx.full_name(), "docker.io/library/nginx");
        assert_eq!(nginx.tag, None);
        assert!(nginx.floating());
        let r = p("localhost:5000/team/app:1.2@sha256:abc");
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.path, "team/app");
        assert_eq!(r.tag.as_deref(), Some("1.2"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        assert!(!r.floating());
        let r = p("registry.example.com:443/app");
        assert_eq!(r.registry, "registry.example.com:443");
        assert_eq!(r.tag, None);
        assert_eq!(p("bitnami/redis:7").full_name(), "docker.io/bitnami/redis");
        assert_eq!(
            p("index.docker.io/library/alpine:3.20").full_name(),
            "docker.io/library/alpine"
        );
        assert!(p("alpine:latest").floating());
        assert!(!p("alpine:latest@sha256:00").floating());
        assert!(!p("alpine:3.20").floating());
        assert!(ImageRef::parse("${IMAGE}").is_none());
        assert!(ImageRef::parse("repo/app:$TAG").is_none());
        assert!(ImageRef::parse("").is_none());
    }

    #[test]
    fn approved_registries_match_host_and_path_prefix() {
        let list = vec![
            "registry.example.com".to_owned(),
            "docker.io/library".to_owned(),
        ];
        assert!(p("nginx:1.27").approved_by(&list));
        assert!(p("docker.io/library/nginx").approved_by(&list));
        assert!(p("registry.example.com/team/app:1").approved_by(&list));
        assert!(!p("bitnami/redis:7").approved_by(&list));
        assert!(!p("registry.example.com.evil.io/app:1").approved_by(&list));
        assert!(!p("ghcr.io/acme/app:1").approved_by(&list));
        let acme = vec!["https://ghcr.io/acme/".to_owned()];
        assert!(p("ghcr.io/acme/app:1").approved_by(&acme));
        assert!(!p("ghcr.io/acme-evil/app:1").approved_by(&acme));
        assert!(p("nginx").approved_by(&["index.docker.io".to_owned()]));
    }
}
