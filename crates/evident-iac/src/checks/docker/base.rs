//! Base images: pinned, and from approved registries. Every stage's `FROM` counts (a build
//! stage's image runs code in the build), except `scratch` and references to earlier stages.

use evident_core::Severity;

use super::{DOCKERFILE, PINNING, PROVENANCE, base_images, stage_hit};
use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::Resource;

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "docker-base-image-latest",
            "Base image uses the latest tag or no tag",
            Severity::Medium,
            PINNING,
            "`FROM image` or `FROM image:latest` builds on whatever the registry serves that day: two builds of the same commit can ship different operating systems and libraries, and a changed or compromised upstream image flows in without review.",
            "Pin every `FROM` to a version tag and preferably a digest: `FROM node:20.12-bookworm-slim@sha256:<digest>` (get the digest with `docker buildx imagetools inspect node:20.12-bookworm-slim`), and let a bot (Renovate, Dependabot) propose updates.",
            DOCKERFILE,
            latest,
        ),
        check(
            "docker-base-image-not-pinned-by-digest",
            "Base image not pinned by digest",
            Severity::Low,
            PINNING,
            "A tag such as `3.20` can be moved to another image at any time by whoever controls the repository; only a digest names one exact image, so the build is reproducible and a re-pushed tag cannot slip in.",
            "Append the digest to the tag: `FROM alpine:3.20@sha256:<digest>` (from `docker buildx imagetools inspect alpine:3.20`); keep the tag for readability and let a bot update both.",
            DOCKERFILE,
            not_pinned,
        ),
        check(
            "docker-base-image-unapproved-registry",
            "Base image from a registry that is not approved",
            Severity::Medium,
            PROVENANCE,
            "The policy lists the registries images may come from (scanned, mirrored, access-controlled); a base image pulled from anywhere else has not gone through that vetting and depends on a third party's account security.",
            "Pull the image through an approved registry (mirror it there) and reference it as `FROM registry.example.com/<path>:<tag>@sha256:<digest>`, or add the registry to `approved_registries` under `[iac]` in evident.toml if it is vetted.",
            DOCKERFILE,
            unapproved_registry,
        ),
    ]
}

fn latest(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for (stage, img) in base_images(r) {
        if !img.floating() {
            continue;
        }
        let written = stage.image.unwrap_or_default();
        let message = if img.tag.is_some() {
            format!("`FROM {written}` follows the moving `latest` tag")
        } else {
            format!("`FROM {written}` has no tag, so it means `latest`")
        };
        out.push(stage_hit(&stage, message));
    }
}

fn not_pinned(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for (stage, img) in base_images(r) {
        // A floating tag is reported by `docker-base-image-latest`.
        if img.digest.is_none() && !img.floating() {
            out.push(stage_hit(
                &stage,
                format!(
                    "`FROM {}` names a tag, not a digest",
                    stage.image.unwrap_or_default()
                ),
            ));
        }
    }
}

fn unapproved_registry(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let approved = &ctx.options.approved_registries;
    if approved.is_empty() {
        return;
    }
    for (stage, img) in base_images(r) {
        if !img.approved_by(approved) {
            out.push(stage_hit(
                &stage,
                format!(
                    "`FROM {}` pulls `{}`, outside the approved registries ({})",
                    stage.image.unwrap_or_default(),
                    img.full_name(),
                    approved.join(", ")
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{dockerfile, hits};

    #[test]
    fn stage_references_and_scratch_are_not_images() {
        let r = dockerfile(&[
            ("golang", Some("Build"), &[]),
            ("build", None, &[]),
            ("scratch", None, &[]),
            ("alpine:latest", None, &[]),
            ("alpine:3.20", None, &[]),
            ("alpine:3.20@sha256:abc", None, &[]),
            ("$BASE", None, &[]),
        ]);
        let latest = hits("docker-base-image-latest", &r);
        assert_eq!(latest.len(), 2, "{latest:?}");
        assert!(latest[0].message.contains("no tag"));
        let digest = hits("docker-base-image-not-pinned-by-digest", &r);
        assert_eq!(digest.len(), 1, "{digest:?}");
        assert!(hits("docker-base-image-unapproved-registry", &r).is_empty());
        let other = dockerfile(&[
            ("ghcr.io/acme/base:1", None, &[]),
            ("bitnami/redis:7", None, &[]),
        ]);
        assert_eq!(
            hits("docker-base-image-unapproved-registry", &other).len(),
            2
        );
    }
}
