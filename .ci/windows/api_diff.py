#!/usr/bin/env python3
"""Compares the public API in two rustdoc JSON files (mio's and evmux's):
every public item path, every inherent method, every non-blanket trait
impl and every auto trait (Send, Sync, Unpin, UnwindSafe, RefUnwindSafe,
whose impls rustdoc synthesizes) of mio's must exist in evmux; an auto
trait mio's type lacks may be evmux's extra. Prints what is missing (and, for the record, what evmux has
beyond mio); exits 1 if anything is missing.

With EXTRAS, a file listing evmux's documented extras one a line (as this
script prints them after "evmux only: "; `#` starts a comment), the
comparison is item for item: an extra not listed fails too, and so does a
listed one that is gone. Extra auto traits are not listed.

Usage: api_diff.py MIO_JSON EVMUX_JSON [EXTRAS]
"""
import json
import sys

# The auto traits whose implementations rustdoc synthesizes: a type that
# loses one breaks code that compiles on mio (a `catch_unwind` closure, a
# value sent to another thread).
AUTO_TRAITS = {"Send", "Sync", "Unpin", "UnwindSafe", "RefUnwindSafe"}


def render(ty):
    """A short rendering of a rustdoc JSON type: enough to tell impls apart."""
    if not isinstance(ty, dict):
        return "?"
    if "resolved_path" in ty:
        path = ty["resolved_path"]
        name = path.get("path") or path.get("name", "?")
        args = path.get("args") or {}
        inner = [render(arg["type"]) for arg in args.get("angle_bracketed", {}).get("args", [])
                 if isinstance(arg, dict) and "type" in arg]
        name = name.split("::")[-1]
        return name + ("<" + ", ".join(inner) + ">" if inner else "")
    if "primitive" in ty:
        return ty["primitive"]
    if "borrowed_ref" in ty:
        mut = "mut " if ty["borrowed_ref"].get("is_mutable") else ""
        return "&" + mut + render(ty["borrowed_ref"]["type"])
    if "generic" in ty:
        return ty["generic"]
    if "slice" in ty:
        return "[" + render(ty["slice"]) + "]"
    return "?"


def public_items(doc):
    """(public path, item) for every item reachable from the crate root
    through public modules and re-exports."""
    index = doc["index"]
    found = []
    seen = set()

    def walk(module_id, prefix):
        if module_id in seen:
            return
        seen.add(module_id)
        module = index[module_id]["inner"]["module"]
        for child_id in module["items"]:
            child = index.get(str(child_id))
            if child is None or child.get("visibility") != "public":
                continue
            inner = child["inner"]
            if "use" in inner:
                use = inner["use"]
                target = index.get(str(use.get("id")))
                if target is None:
                    continue
                if use.get("is_glob"):
                    walk(str(use["id"]), prefix)
                    continue
                child, name = target, use["name"]
            else:
                name = child.get("name")
            path = prefix + [name]
            found.append(("::".join(path), child))
            if "module" in child["inner"]:
                walk(str(child["id"]), path)

    walk(str(doc["root"]), [])
    return found


def api(path):
    doc = json.load(open(path))
    index = doc["index"]
    items = set()
    for name, item in public_items(doc):
        kind = next(iter(item["inner"]))
        items.add(f"{kind} {name}")
        body = item["inner"].get("struct") or item["inner"].get("enum")
        if not body:
            continue
        for impl_id in body.get("impls", []):
            impl = index.get(str(impl_id), {}).get("inner", {}).get("impl")
            if not impl or impl.get("blanket_impl"):
                continue
            trait = impl.get("trait")
            if impl.get("is_synthetic"):
                trait_name = render({"resolved_path": trait}) if trait else "?"
                if trait_name in AUTO_TRAITS and not impl.get("is_negative"):
                    items.add(f"auto impl {trait_name} for {render(impl.get('for'))}")
                continue
            if trait is None:
                for method_id in impl.get("items", []):
                    method = index.get(str(method_id), {})
                    if method.get("visibility") == "public":
                        items.add(f"method {name}::{method.get('name')}")
            else:
                trait_name = render({"resolved_path": trait})
                items.add(f"impl {trait_name} for {render(impl.get('for'))}")
    return items


def expected_extras(path):
    """The documented extras listed in `path`."""
    lines = (line.split("#", 1)[0].strip() for line in open(path))
    return {line for line in lines if line}


def main():
    mio, evmux = api(sys.argv[1]), api(sys.argv[2])
    missing = sorted(mio - evmux)
    extra = sorted(evmux - mio)
    print(f"mio: {len(mio)} API items, evmux: {len(evmux)}")
    for line in extra:
        print(f"  evmux only: {line}")
    for line in missing:
        print(f"  MISSING from evmux: {line}")
    failed = bool(missing)
    if len(sys.argv) > 3:
        listed = expected_extras(sys.argv[3])
        # An auto trait evmux's type has beyond mio's is additive, and each
        # of evmux's own types has some: not listed one by one.
        extra = [line for line in extra if not line.startswith("auto impl ")]
        for line in sorted(set(extra) - listed):
            print(f"  UNLISTED extra (add it to {sys.argv[3]} with a reason): {line}")
        for line in sorted(listed - set(extra)):
            print(f"  LISTED extra no longer in evmux: {line}")
        failed |= set(extra) != listed
    if failed:
        sys.exit(1)
    print("nothing of mio's is missing" + (", and every extra is listed" if len(sys.argv) > 3 else ""))


main()
