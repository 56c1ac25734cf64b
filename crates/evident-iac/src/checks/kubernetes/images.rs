//! Container images: pinned, and pulled from approved registries.

use evident_core::Severity;

use super::{Container, WORKLOADS, each_container};
use crate::checks::docker::image::ImageRef;
use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::Resource;

/// Reproducible deployments: the same manifest runs the same image.
const PINNING: &[&str] = &[
    "soc2:CC8.1",
    "iso27001:A.8.32",
    "nist-800-53:CM-6",
    "nist-800-53:SR-11",
];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "k8s-image-latest-tag",
            "Container image uses the latest tag or no tag",
            Severity::Medium,
            PINNING,
            "An image without a tag, or tagged `latest`, is whatever the registry serves when a node pulls it: replicas can run different code, a rollback does not bring back the old version, and a changed upstream image is deployed without review.",
            "Reference a version tag, preferably with its digest: `image: registry.example.com/app:1.4.2@sha256:<digest>`.",
            WORKLOADS,
            latest,
        ),
        check(
            "k8s-image-not-pinned-by-digest",
            "Container image not pinned by digest",
            Severity::Low,
            PINNING,
            "A tag can be re-pushed to point at another image; only a digest guarantees every node runs exactly the image that was reviewed and scanned.",
            "Append the digest to the image: `image: app:1.4.2@sha256:<digest>` (from `crane digest` or `docker buildx imagetools inspect`), and let your CD tool or a bot update it.",
            WORKLOADS,
            not_pinned,
        ),
        check(
            "k8s-image-unapproved-registry",
            "Container image from a registry that is not approved",
            Severity::Medium,
            &[
                "soc2:CC8.1",
                "soc2:CC9.2",
                "iso27001:A.5.21",
                "nist-800-53:SR-3",
                "nist-800-53:SR-11",
            ],
            "The policy lists the registries images may come from (scanned, mirrored, access-controlled); an image pulled from elsewhere skipped that vetting and depends on a third party's account security.",
            "Mirror the image into an approved registry and reference it there (`image: registry.example.com/<path>:<tag>`), or add the registry to `approved_registries` under `[iac]` in evident.toml if it is vetted.",
            WORKLOADS,
            unapproved_registry,
        ),
    ]
}

/// The container's image, parsed, with the line of `image`; `None` when absent or unknown.
fn image(c: &Container<'_>) -> Option<(String, ImageRef, u32)> {
    let written = c.attr("image").str()?;
    Some((
        written.to_owned(),
        ImageRef::parse(written)?,
        c.line_of("image"),
    ))
}

fn latest(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |_, c, out| {
        if let Some((written, img, line)) = image(c)
            && img.floating()
        {
            let what = if img.tag.is_some() {
                "follows the moving `latest` tag"
            } else {
                "has no tag, so it means `latest`"
            };
            out.push(c.hit(line, format!("{} image `{written}` {what}", c.label())));
        }
    });
}

fn not_pinned(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |_, c, out| {
        // Floating tags are reported by `k8s-image-latest-tag`.
        if let Some((written, img, line)) = image(c)
            && img.digest.is_none()
            && !img.floating()
        {
            out.push(c.hit(
                line,
                format!("{} image `{written}` names a tag, not a digest", c.label()),
            ));
        }
    });
}

fn unapproved_registry(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let approved = &ctx.options.approved_registries;
    if approved.is_empty() {
        return;
    }
    each_container(r, out, |_, c, out| {
        if let Some((written, img, line)) = image(c)
            && !img.approved_by(approved)
        {
            out.push(c.hit(
                line,
                format!(
                    "{} image `{written}` comes from `{}`, outside the approved registries ({})",
                    c.label(),
                    img.full_name(),
                    approved.join(", ")
                ),
            ));
        }
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{deployment, hits};

    #[test]
    fn image_pinning_and_registries() {
        let d = deployment(&json!({"containers": [
            {"name": "a", "image": "nginx"},
            {"name": "b", "image": "nginx:latest"},
            {"name": "c", "image": "registry.example.com/shop/web:1.2.3"},
            {"name": "d", "image": "ghcr.io/acme/web:1.2.3@sha256:abc"},
            {"name": "e", "image": "{{ .Values.image }}"},
        ]}));
        let keys = |id: &str| hits(id, &d).into_iter().map(|h| h.key).collect::<Vec<_>>();
        assert_eq!(keys("k8s-image-latest-tag"), ["a", "b"]);
        assert_eq!(keys("k8s-image-not-pinned-by-digest"), ["c"]);
        assert_eq!(keys("k8s-image-unapproved-registry"), ["d"]);
    }
}
