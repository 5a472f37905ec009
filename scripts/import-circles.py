#!/usr/bin/env python3
"""Lists import circles between the modules of src/ (test code left out).

A module is one file: src/a.rs or src/a/mod.rs is `a`, src/a/b.rs is `a::b`.
Every `crate::…`, `super::…` and `self::…` path in non-test code is an edge
to the longest module that the path names. Exits 1 when there is a circle,
printing each one, so CI keeps the arrows pointing one way.
"""
import pathlib
import re
import sys

SRC = pathlib.Path(__file__).resolve().parent.parent / "src"


def module_of(path):
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts)


def without_tests(text):
    # Test modules sit at the end of a file: cut from the first `#[cfg(test)]`
    # that opens a module.
    m = re.search(r"#\[cfg\(test\)\]\s*(pub(\(crate\))?\s+)?mod\s+\w+\s*\{", text)
    text = text[: m.start()] if m else text
    text = re.sub(r"//.*", "", text)
    return text


def main():
    files = {}
    for path in SRC.rglob("*.rs"):
        files[module_of(path)] = path
    modules = set(files)
    edges = {m: set() for m in modules}
    for mod, path in files.items():
        text = without_tests(path.read_text(encoding="utf-8"))
        here = mod.split("::") if mod else []
        # Expand `use a::{b, c::{d}}` groups into plain paths.
        paths = []
        for m in re.finditer(r"\b(crate|super|self)((?:::\w+)+)(::\{[^;]*)?", text):
            base = m.group(1) + m.group(2)
            paths.append(base)
            if m.group(3):
                for inner in re.findall(r"\b(\w+)(?:::(\w+))?", m.group(3)):
                    paths.append(base + "::" + inner[0] + ("::" + inner[1] if inner[1] else ""))
        for p in paths:
            segs = p.split("::")
            if segs[0] == "crate":
                target = segs[1:]
            else:
                # `self` is this module, each `super` one level up.
                parent = list(here)
                if segs[0] == "self":
                    segs = segs[1:]
                while segs and segs[0] == "super":
                    parent = parent[:-1]
                    segs = segs[1:]
                target = parent + segs
            for n in range(len(target), 0, -1):
                cand = "::".join(target[:n])
                if cand in modules:
                    if cand != mod:
                        edges[mod].add(cand)
                    break
    # Strongly connected components (Tarjan).
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(modules):
        if v not in index:
            visit(v)
    if not comps:
        print(f"no import circles among {len(modules)} modules")
        return 0
    for comp in comps:
        inner = [f"{a} -> {b}" for a in comp for b in sorted(edges[a]) if b in comp]
        print("import circle: " + ", ".join(inner))
    return 1


if __name__ == "__main__":
    sys.exit(main())
