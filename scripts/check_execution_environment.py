"""`make ee`: prove that an execution environment built for this collection gets its dependencies.

Run by the ansible-builder venv's python (build/venvs/builder), offline:

1. Reads what the installed collection declares (meta/execution-environment.yml and the files it
   names) and checks the declarations: not empty, unpinned, no ansible or ansible-core, and
   pypureomapi among them (dhcp.failover.state needs it).
2. `ansible-builder introspect --sanitize` on the installed collection must list every declared
   dependency, attributed to dhcp.failover.
3. `ansible-builder create` on the example definition writes the build context. Its
   Containerfile must install the context's requirements.yml and run the introspection; the
   context must hold the tarball `make collection` built. Then the build's dependency steps are
   replayed from the context, without a container engine or a registry: the galaxy stage's
   `ansible-galaxy collection install -r requirements.yml` (in the context's _build, as in the
   image) and the builder stage's `introspect.py introspect --write-pip --write-bindep` (the
   context's own copy of the script). The files it writes, which the image build installs,
   must list every declared dependency.

Exits 1 with one line per problem.
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

NAME = "dhcp.failover"
ORIGIN = f"# from collection {NAME}"
REQUIRED_PYTHON = {"pypureomapi"}
# Packages an execution environment brings itself; a collection must not pin or pull them.
FORBIDDEN_PYTHON = {"ansible", "ansible-core", "ansible-base"}

problems = []


def problem(msg):
    problems.append(msg)
    print(f"FAIL: {msg}")


def lines_of(path):
    with open(path, encoding="utf-8") as f:
        return [line.split("#", 1)[0].strip() for line in f if line.split("#", 1)[0].strip()]


def declared(collection_dir):
    """(python lines, system lines) the collection declares for execution environments."""
    meta = os.path.join(collection_dir, "meta", "execution-environment.yml")
    if not os.path.isfile(meta):
        problem(f"{meta} is missing")
        return [], []
    with open(meta, encoding="utf-8") as f:
        deps = (yaml.safe_load(f) or {}).get("dependencies", {})
    result = []
    for kind in ("python", "system"):
        if not deps.get(kind):
            problem(f"meta/execution-environment.yml declares no {kind} dependencies")
            result.append([])
            continue
        result.append(lines_of(os.path.join(collection_dir, deps[kind])))
    return tuple(result)


def check_declarations(python, system):
    names = set()
    for line in python:
        name = re.split(r"[\s\[<>=!~;@]", line, maxsplit=1)[0].lower().replace("_", "-")
        names.add(name)
        if name in FORBIDDEN_PYTHON:
            problem(f"python dependency {line!r}: an execution environment brings its own {name}")
        if re.search(r"[<>=!~@]", line):
            problem(f"python dependency {line!r} is pinned; certification asks for unpinned ones")
    for missing in sorted(REQUIRED_PYTHON - names):
        problem(f"python dependencies lack {missing}")
    for line in system:
        if re.search(r"[<>=!]", re.sub(r"\[.*?\]", "", line)):
            problem(f"system dependency {line!r} is pinned; certification asks for unpinned ones")


def check_listed(what, listed, python, system):
    """Every declared dependency appears in LISTED (lines of requirements or bindep text)."""
    for kind, entries in (("python", python), ("system", system)):
        for entry in entries:
            if not any(line.strip().startswith(entry) and ORIGIN in line for line in listed[kind]):
                problem(f"{what} does not list the {kind} dependency {entry!r} {ORIGIN}")


def run(argv, **kwargs):
    print("+ " + " ".join(argv), flush=True)
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if proc.returncode != 0:
        print(proc.stdout + proc.stderr)
        problem(f"{argv[0]} exited with {proc.returncode}")
    return proc


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections", required=True, help="path holding ansible_collections/ (installed tarball)")
    parser.add_argument("--tarball", required=True, help="the collection tarball make collection built")
    parser.add_argument("--definition", required=True, help="the example execution-environment.yml")
    parser.add_argument("--context", required=True, help="where ansible-builder create writes the context")
    parser.add_argument("--ansible-galaxy", required=True, help="ansible-galaxy to replay the galaxy stage with")
    args = parser.parse_args()
    builder = os.path.join(os.path.dirname(sys.executable), "ansible-builder")

    collection_dir = os.path.join(args.collections, "ansible_collections", *NAME.split("."))
    python, system = declared(collection_dir)
    print(f"declared: python {python}, system {system}")
    check_declarations(python, system)

    # 2. ansible-builder introspect on the installed collection.
    proc = run([builder, "introspect", "--sanitize", args.collections])
    print(proc.stdout)
    data = yaml.safe_load(proc.stdout.split("\n", 1)[1]) if proc.returncode == 0 else None
    data = data or {}
    check_listed("ansible-builder introspect", {k: data.get(k) or [] for k in ("python", "system")}, python, system)

    # 3. ansible-builder create on the example definition.
    shutil.rmtree(args.context, ignore_errors=True)
    run([builder, "create", "-f", args.definition, "-c", args.context, "--output-filename", "Containerfile", "-v1"])
    containerfile = os.path.join(args.context, "Containerfile")
    build_dir = os.path.join(args.context, "_build")
    if not os.path.isfile(containerfile):
        problem("ansible-builder create wrote no Containerfile")
        return 1
    with open(containerfile, encoding="utf-8") as f:
        text = f.read()
    for step in ("ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml",
                 "/output/scripts/introspect.py introspect",
                 "/output/scripts/install-from-bindep"):
        if step not in text:
            problem(f"the Containerfile has no step {step!r}")
    with open(os.path.join(build_dir, "requirements.yml"), encoding="utf-8") as f:
        wanted = (yaml.safe_load(f) or {}).get("collections") or []
    tarballs = [c["name"] for c in wanted if isinstance(c, dict) and c.get("type") == "file"]
    in_context = os.path.join(build_dir, tarballs[0]) if tarballs else ""
    if not tarballs or not os.path.isfile(in_context):
        problem(f"the context's requirements.yml names no collection tarball the context holds: {wanted}")
        return 1
    if sha256(in_context) != sha256(args.tarball):
        problem(f"{in_context} is not the tarball make collection built ({args.tarball}); "
                "update the example's additional_build_files and requirements.yml to galaxy.yml's version")

    # Replay the image build's dependency steps from the context.
    with tempfile.TemporaryDirectory() as tmp:
        installed = os.path.join(tmp, "collections")
        # As in the image's galaxy stage: nothing else on the collections path, so --force and an
        # environment without ANSIBLE_COLLECTIONS_PATH (else "already installed" installs nothing).
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_COLLECTIONS_PATH")}
        proc = run([args.ansible_galaxy, "collection", "install", "--offline", "--force", "-r", "requirements.yml",
                    "--collections-path", installed], cwd=build_dir, env=env)
        print(proc.stdout.strip())
        if not os.path.isfile(os.path.join(installed, "ansible_collections", *NAME.split("."), "MANIFEST.json")):
            problem(f"installing the context's requirements.yml did not install {NAME}")
        pip_out, bindep_out = os.path.join(tmp, "requirements.txt"), os.path.join(tmp, "bindep.txt")
        proc = run([sys.executable, os.path.join(build_dir, "scripts", "introspect.py"), "introspect",
                    f"--write-pip={pip_out}", f"--write-bindep={bindep_out}", installed])
        listed = {}
        for kind, path in (("python", pip_out), ("system", bindep_out)):
            with open(path, encoding="utf-8") if os.path.isfile(path) else open(os.devnull, encoding="utf-8") as f:
                listed[kind] = f.read().splitlines()
            print(f"the image build would install ({kind}): {listed[kind]}")
        check_listed("the build context's introspection", listed, python, system)

    if problems:
        print(f"execution environment: {len(problems)} problem(s)")
        return 1
    print(f"execution environment: {NAME} declares {len(python)} python and {len(system)} system "
          "dependencies; introspect and the build context list them all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
