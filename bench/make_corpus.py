#!/usr/bin/env python3
"""Deterministic corpus for bench/secrets.sh (standard library only).

Subcommands:
  tree     extract the registry crates named by Cargo.lock into OUT/copy1, repeat copies
           (copy2..copyK) until the tree holds at least --min-bytes, then plant synthetic
           secrets into OUT/planted/
  history  write a `git fast-import` stream to stdout: SRC's files spread over --commits
           commits, each commit also appending a line to an earlier file, ~1 in 50 deleting
           one, and ~50 planted secrets (about half deleted again later)
  staged   modify 5 files of a checked-out repository (one gets a secret) for `--staged`
  summary  print `findings bytes` from an evident JSON report (for the shell script)

Everything random comes from fixed seeds and every timestamp is fixed, so the same Cargo.lock
gives the same files, the same commits and the same commit ids.
"""

from __future__ import annotations

import argparse
import base64
import glob
import json
import os
import random
import shutil
import string
import sys
import tarfile
import tomllib
import zlib
from pathlib import Path

CORPUS_VERSION = 1

ALNUM = string.digits + string.ascii_uppercase + string.ascii_lowercase  # base62 order
B32 = string.ascii_uppercase + "234567"
B64 = string.ascii_letters + string.digits + "+/"


# --------------------------------------------------------------------------- secrets


def base62(value: int, width: int) -> str:
    digits = []
    while value > 0:
        digits.append(ALNUM[value % 62])
        value //= 62
    while len(digits) < width:
        digits.append("0")
    return "".join(reversed(digits))


def rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def aws_key(rng):
    return "AKIA" + rand(rng, B32, 16)


def github_token(rng):
    body = rand(rng, ALNUM, 30)
    return "ghp_" + body + base62(zlib.crc32(body.encode()), 6)


def slack_token(rng):
    return (
        "xoxb-" + rand(rng, string.digits, 13) + "-" + rand(rng, string.digits, 13)
        + "-" + rand(rng, ALNUM, 24)
    )


def stripe_key(rng):
    return "sk_live_" + rand(rng, ALNUM, 24)


def password(rng):
    return rand(rng, ALNUM + "!@#%^*-_+", 16)


def pem_key(rng, indent: str = "") -> str:
    der = rng.randbytes(1190)
    body = "MIIEpAIBAAKCAQEA" + base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    out = ["-----BEGIN RSA PRIVATE KEY-----", *lines, "-----END RSA PRIVATE KEY-----"]
    return "\n".join(indent + line for line in out)


# One planted secret rendered for a file kind: a list of lines.
def render(kind: str, ext: str, n: int, rng: random.Random) -> list[str]:
    if kind == "aws":
        v = aws_key(rng)
        return {
            "env": [f"AWS_ACCESS_KEY_ID_{n}={v}"],
            "py": [f'aws_access_key_id_{n} = "{v}"'],
            "yaml": [f"aws_access_key_id_{n}: {v}"],
        }[ext]
    if kind == "github":
        v = github_token(rng)
        return {
            "env": [f"GITHUB_TOKEN_{n}={v}"],
            "py": [f'GITHUB_TOKEN_{n} = "{v}"'],
            "yaml": [f"github_token_{n}: {v}"],
        }[ext]
    if kind == "slack":
        v = slack_token(rng)
        return {
            "env": [f"SLACK_BOT_TOKEN_{n}={v}"],
            "py": [f'slack_bot_token_{n} = "{v}"'],
            "yaml": [f"slack_bot_token_{n}: {v}"],
        }[ext]
    if kind == "stripe":
        v = stripe_key(rng)
        return {
            "env": [f"STRIPE_SECRET_KEY_{n}={v}"],
            "py": [f'stripe_secret_key_{n} = "{v}"'],
            "yaml": [f"stripe_secret_key_{n}: {v}"],
        }[ext]
    if kind == "password":
        v = password(rng)
        return {
            "env": [f'DB_PASSWORD_{n}="{v}"'],
            "py": [f'password = "{v}"'],
            "yaml": [f'password: "{v}"'],
        }[ext]
    if kind == "pem":
        if ext == "py":
            return [f'PRIVATE_KEY_{n} = """', pem_key(rng), '"""']
        if ext == "yaml":
            return [f"private_key_{n}: |", pem_key(rng, "  ")]
        return [f'PRIVATE_KEY_{n}="', pem_key(rng), '"']
    raise ValueError(kind)


FILLER = {
    "env": ["APP_ENV=production", "LOG_LEVEL=info", "PORT=8080", "FEATURE_FLAGS=search,billing"],
    "py": ["import os", "DEBUG = False", "TIMEOUT_SECONDS = 30", "REGION = 'eu-west-1'"],
    "yaml": ["service: billing", "replicas: 3", "region: eu-west-1", "log_level: info"],
}

# ~200 secrets for the working tree.
TREE_MIX = [("aws", 50), ("github", 40), ("slack", 35), ("stripe", 35), ("password", 32), ("pem", 8)]


def plant_tree(out: Path, seed: int) -> int:
    rng = random.Random(seed)
    kinds = [k for k, count in TREE_MIX for _ in range(count)]
    rng.shuffle(kinds)
    planted = out / "planted"
    planted.mkdir(parents=True, exist_ok=True)
    exts = ["env", "py", "yaml"]
    per_file = 5
    for f, start in enumerate(range(0, len(kinds), per_file)):
        ext = exts[f % 3]
        name = {"env": f"service-{f:03}.env", "py": f"settings_{f:03}.py", "yaml": f"deploy-{f:03}.yaml"}[ext]
        lines = [f"# planted benchmark secrets, file {f} (synthetic)"]
        for n, kind in enumerate(kinds[start : start + per_file]):
            lines.append(rng.choice(FILLER[ext]))
            lines.extend(render(kind, ext, n, rng))
        (planted / name).write_text("\n".join(lines) + "\n")
    return len(kinds)


# --------------------------------------------------------------------------- tree


def lock_packages(lock: Path) -> list[tuple[str, str]]:
    data = tomllib.loads(lock.read_text())
    pkgs = {
        (p["name"], p["version"])
        for p in data.get("package", [])
        if str(p.get("source", "")).startswith(("registry+", "sparse+"))
    }
    return sorted(pkgs)


def find_crate(cargo_home: Path, name: str, version: str) -> Path | None:
    hits = sorted(glob.glob(str(cargo_home / "registry" / "cache" / "*" / f"{name}-{version}.crate")))
    return Path(hits[0]) if hits else None


def tree_bytes(root: Path) -> tuple[int, int]:
    total = files = 0
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                total += os.path.getsize(p)
                files += 1
    return total, files


def cmd_tree(args) -> None:
    out = Path(args.out)
    cargo_home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    pkgs = lock_packages(Path(args.lock))
    missing = [f"{n}-{v}" for n, v in pkgs if find_crate(cargo_home, n, v) is None]
    if missing:
        sys.exit(f"make_corpus: {len(missing)} crates missing from the cargo cache "
                 f"(run `cargo fetch --locked`): {', '.join(missing[:5])} ...")
    if out.exists():
        shutil.rmtree(out)
    copy1 = out / "copy1"
    copy1.mkdir(parents=True)
    for n, v in pkgs:
        with tarfile.open(find_crate(cargo_home, n, v), "r:gz") as tar:
            try:
                tar.extractall(copy1, filter="data")
            except TypeError:  # Python without extraction filters (< 3.11.4)
                tar.extractall(copy1)
    one, files = tree_bytes(copy1)
    copies = max(1, -(-args.min_bytes // one))
    for k in range(2, copies + 1):
        shutil.copytree(copy1, out / f"copy{k}", symlinks=True)
    secrets = plant_tree(out, args.seed)
    total, all_files = tree_bytes(out)
    print(f"tree: {len(pkgs)} crates, {files} files, {one / 1e6:.1f} MB per copy, {copies} copies, "
          f"{secrets} planted secrets; {all_files} files, {total / 1e6:.1f} MB in total", file=sys.stderr)


# --------------------------------------------------------------------------- history


def fi_path(path: str) -> bytes:
    if any(c in path for c in '"\\\n') or path.startswith('"'):
        esc = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{esc}"'.encode()
    return path.encode()


def is_text(data: bytes) -> bool:
    if b"\0" in data[:8192]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


COMMENT = {
    ".rs": "//", ".c": "//", ".h": "//", ".cpp": "//", ".js": "//", ".ts": "//", ".go": "//",
    ".toml": "#", ".py": "#", ".sh": "#", ".yml": "#", ".yaml": "#", ".cfg": "#",
}

HISTORY_MIX = ["aws", "github", "slack", "stripe", "password", "pem"]


def cmd_history(args) -> None:
    src = Path(args.src)
    rng = random.Random(args.seed)
    secret_rng = random.Random(args.seed + 1)
    files: list[str] = []
    for dirpath, dirs, names in os.walk(src):
        dirs.sort()
        for n in names:
            p = os.path.join(dirpath, n)
            if os.path.isfile(p) and not os.path.islink(p):
                files.append(os.path.relpath(p, src).replace(os.sep, "/"))
    files.sort()
    n_commits = args.commits
    w = sys.stdout.buffer

    # Which commits plant a secret, and which later commit (if any) deletes it again.
    plant_at: dict[int, int] = {}
    step = (n_commits - 200) // args.secrets
    for k in range(args.secrets):
        plant_at[100 + k * step + rng.randrange(step // 2)] = k
    delete_at: dict[int, list[str]] = {}

    appended: dict[str, bytes] = {}  # path -> lines appended so far
    text: list[str] = []  # text files present, eligible for edits and deletions
    text_pos: dict[str, int] = {}
    modes: dict[str, str] = {}
    sizes: dict[str, int] = {}
    deleted = edited = blob_bytes = 0

    def remove_text(path):
        i = text_pos.pop(path)
        last = text.pop()
        if i < len(text):
            text[i] = last
            text_pos[last] = i

    def data(blob: bytes) -> None:
        w.write(b"data %d\n" % len(blob))
        w.write(blob)
        w.write(b"\n")

    for i in range(n_commits):
        ts = 1_600_000_000 + i * 600
        batch = files[i * len(files) // n_commits : (i + 1) * len(files) // n_commits]
        ops: list[tuple] = []
        # Edit one file added by an earlier commit: the larger of two picked at random, as big
        # files tend to churn more (and it gives the history more unique blob bytes).
        if text:
            path = max((text[rng.randrange(len(text))] for _ in range(2)), key=lambda p: (sizes[p], p))
            ext = os.path.splitext(path)[1]
            base = (src / path).read_bytes()
            prev = appended.get(path, b"")
            lead = b"" if (base + prev).endswith(b"\n") or not (base + prev) else b"\n"
            line = f"{COMMENT.get(ext, '#')} bench edit {i}: {rng.getrandbits(32):08x}\n".encode()
            appended[path] = prev + lead + line
            ops.append(("M", path, base + appended[path], modes[path]))
            sizes[path] = len(base) + len(appended[path])
            edited += 1
        # ~1 in 50 commits deletes a file.
        if i % 50 == 49 and text:
            path = text[rng.randrange(len(text))]
            if not any(op[1] == path for op in ops):
                remove_text(path)
                ops.append(("D", path, None))
                deleted += 1
        for path in batch:
            blob = (src / path).read_bytes()
            mode = "100755" if os.stat(src / path).st_mode & 0o111 else "100644"
            modes[path] = mode
            sizes[path] = len(blob)
            ops.append(("M", path, blob, mode))
            if is_text(blob):
                text.append(path)
                text_pos[path] = len(text) - 1
        if i in plant_at:
            k = plant_at[i]
            ext = ["env", "py", "yaml"][k % 3]
            kind = HISTORY_MIX[k % len(HISTORY_MIX)]
            path = f"deploy/leaked-{k:02}.{ext}"
            lines = [secret_rng.choice(FILLER[ext]), *render(kind, ext, k, secret_rng), secret_rng.choice(FILLER[ext])]
            ops.append(("M", path, ("\n".join(lines) + "\n").encode()))
            if k % 2 == 0:  # half of them are "cleaned up" later: the blob stays in history
                delete_at.setdefault(min(n_commits - 1, i + 10 + rng.randrange(300)), []).append(path)
        for path in delete_at.pop(i, []):
            ops.append(("D", path, None))

        added = len(batch)
        msg = f"commit {i}: add {added} file(s), edit 1\n".encode()
        w.write(b"commit refs/heads/main\n")
        w.write(b"mark :%d\n" % (i + 1))
        w.write(b"author Bench Author <author@bench.invalid> %d +0000\n" % ts)
        w.write(b"committer Bench Committer <committer@bench.invalid> %d +0000\n" % ts)
        data(msg)
        if i > 0:
            w.write(b"from :%d\n" % i)
        for op in ops:
            if op[0] == "D":
                w.write(b"D " + fi_path(op[1]) + b"\n")
            else:
                mode = op[3] if len(op) > 3 else "100644"
                w.write(f"M {mode} inline ".encode() + fi_path(op[1]) + b"\n")
                data(op[2])
                blob_bytes += len(op[2])
        w.write(b"\n")
    w.write(b"done\n")
    w.flush()
    print(f"history stream: {n_commits} commits, {len(files)} files added, {edited} edits, "
          f"{deleted} deletions, {len(plant_at)} planted secrets; {blob_bytes / 1e6:.1f} MB of blobs written",
          file=sys.stderr)


# --------------------------------------------------------------------------- staged


def cmd_staged(args) -> None:
    repo = Path(args.repo)
    rng = random.Random(args.seed)
    candidates = sorted(
        str(p.relative_to(repo)) for p in repo.rglob("*.rs") if ".git" not in p.parts and p.is_file()
    )
    picks = [candidates[j * len(candidates) // 5] for j in range(5)]
    for j, rel in enumerate(picks):
        p = repo / rel
        body = p.read_bytes()
        if not body.endswith(b"\n"):
            body += b"\n"
        extra = f"// staged edit {j}\nconst STAGED_EDIT_{j}: u32 = {rng.randrange(1 << 30)};\n"
        if j == 2:
            extra += f'const AWS_KEY_ID: &str = "{aws_key(rng)}";\n'
        p.write_bytes(body + extra.encode())
        print(rel)


def cmd_summary(args) -> None:
    with open(args.report) as f:
        summary = json.load(f)["summary"]
    print(summary.get("findings", 0), summary.get("bytes", 0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tree")
    t.add_argument("--lock", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--min-bytes", type=int, default=500_000_000)
    t.add_argument("--seed", type=int, default=20240601)
    h = sub.add_parser("history")
    h.add_argument("--src", required=True)
    h.add_argument("--commits", type=int, default=5000)
    h.add_argument("--secrets", type=int, default=50)
    h.add_argument("--seed", type=int, default=20240602)
    s = sub.add_parser("staged")
    s.add_argument("--repo", required=True)
    s.add_argument("--seed", type=int, default=20240603)
    r = sub.add_parser("summary")
    r.add_argument("report")
    sub.add_parser("version")
    args = ap.parse_args()
    if args.cmd == "version":
        print(CORPUS_VERSION)
        return
    {"tree": cmd_tree, "history": cmd_history, "staged": cmd_staged, "summary": cmd_summary}[args.cmd](args)


if __name__ == "__main__":
    main()
