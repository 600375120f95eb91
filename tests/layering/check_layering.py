"""The walls of docs/architecture.md hold: every `#include "room/..."` in src/ names a room that
the including file's room may use, as the "Walls" table of docs/architecture.md says.

    check_layering.py ROOT          check ROOT/src against ROOT/docs/architecture.md
    check_layering.py --self-test   show that a forbidden include is caught

A room is a folder under src/ (`store`) or a sub-folder the table lists on its own row
(`store/sqlite`); a file belongs to the most specific room that contains it, and so does an
included path. A room may always include itself. `*` in the table means every room.
"""

import os
import re
import sys
import tempfile

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
ROW_RE = re.compile(r"^\|\s*`([a-z_/]+)`\s*\|(.*)\|\s*$")


def read_walls(architecture_md):
    """{room: set of rooms it may include} from the table under the '## Walls' heading."""
    with open(architecture_md, encoding="utf-8") as f:
        text = f.read()
    start = text.find("\n## Walls")
    if start < 0:
        raise SystemExit(f"{architecture_md}: no '## Walls' section")
    walls = {}
    for line in text[start:].split("\n## ", 2)[1].splitlines():
        m = ROW_RE.match(line)
        if m:
            walls[m.group(1)] = set(re.findall(r"`([a-z_/*]+)`", m.group(2)))
    if not walls:
        raise SystemExit(f"{architecture_md}: the Walls table has no rows")
    return walls


def room_of(path, walls):
    """The most specific room that holds `path` (relative to src/), or None."""
    parts = path.split("/")
    for n in range(len(parts) - 1, 0, -1):
        candidate = "/".join(parts[:n])
        if candidate in walls:
            return candidate
    return None


def violations(src, walls):
    found = []
    for dirpath, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".h", ".cpp")):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, src).replace(os.sep, "/")
            room = room_of(rel, walls)
            if room is None:
                found.append(f"src/{rel}: its folder is not in the Walls table")
                continue
            with open(full, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for included in INCLUDE_RE.findall(text):
                if "/" not in included:
                    continue  # a file next to this one
                target = room_of(included, walls)
                if target is None:
                    if os.path.exists(os.path.join(src, included)):
                        found.append(f"src/{rel}: includes {included}, whose room is not in the table")
                    continue  # not one of ours (a third-party header)
                allowed = walls[room]
                if target == room or "*" in allowed or target in allowed:
                    continue
                found.append(f"src/{rel} ({room}) includes {included} ({target}): "
                             f"{room} may use only {', '.join(sorted(allowed)) or 'nothing'}")
    return found


def check(root):
    walls = read_walls(os.path.join(root, "docs", "architecture.md"))
    found = violations(os.path.join(root, "src"), walls)
    for v in found:
        print(v)
    print(f"layering: {len(found)} forbidden include(s) in {len(walls)} rooms")
    return 1 if found else 0


def self_test():
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "docs"))
        with open(os.path.join(root, "docs", "architecture.md"), "w") as f:
            f.write("# x\n\n## Walls\n| room | may use |\n|---|---|\n"
                    "| `common` | |\n| `store` | `common` |\n| `store/sqlite` | `store` |\n"
                    "| `api` | `store` |\n| `main` | `*` |\n\n## Next\n| `api` | `store/sqlite` |\n")
        files = {
            "common/clock.h": "#include <chrono>\n",
            "store/records.h": '#include "common/clock.h"\n',
            "store/sqlite/db.cpp": '#include "store/records.h"\n#include <sqlite3.h>\n',
            "api/ok.cpp": '#include "store/records.h"\n#include "nlohmann/json.hpp"\n',
            "api/bad.cpp": '#include "store/sqlite/db.h"\n',
            "api/bad2.cpp": '#include "common/clock.h"\n',
            "main/main.cpp": '#include "store/sqlite/db.h"\n#include "api/ok.h"\n',
        }
        for path, text in files.items():
            full = os.path.join(root, "src", path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
        found = violations(os.path.join(root, "src"),
                           read_walls(os.path.join(root, "docs", "architecture.md")))
        bad = sorted(v.split(" ")[0] for v in found)
        expected = ["src/api/bad.cpp", "src/api/bad2.cpp"]
        if bad != expected:
            print(f"self-test: expected {expected} to be caught, got {found}")
            return 1
        print("self-test: the forbidden includes were caught, the allowed ones passed")
        return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sys.exit(check(sys.argv[1]))
