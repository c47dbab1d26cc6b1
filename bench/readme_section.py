"""What the benchmarks share: their table's section of README.md, and the
version a tool reports."""

import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(name, text, missing=None):
    """Puts `text` between README.md's `<!-- name:begin -->` and
    `<!-- name:end -->` markers. Where they are not there yet, appends
    `missing` (a heading and a line saying how the table is made) and the
    block; without `missing` that is an error."""
    path = os.path.join(ROOT, "README.md")
    with open(path) as f:
        readme = f.read()
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{text}\n{end}"
    if begin in readme:
        readme = readme[:readme.index(begin)] + block + readme[readme.index(end) + len(end):]
    elif missing is not None:
        readme += missing + block + "\n"
    else:
        raise SystemExit(f"README.md has no {begin} ... {end} section")
    with open(path, "w") as f:
        f.write(readme)


def tool_version(command, field):
    """Word `field` of what `command` prints, or "?"."""
    try:
        out = subprocess.run(command, capture_output=True, text=True).stdout.split()
        return out[field] if len(out) > field else "?"
    except OSError:
        return "?"
