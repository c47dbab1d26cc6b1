#!/usr/bin/env python3
"""Validate OCI config.json files against vessel's JSON Schema.

    check.py FILE...        validate each file; print "ok FILE" or its errors
    check.py --self-test    run tests/valid (must pass) and tests/invalid (must fail)

Exit status: 0 when every file (or case) came out as expected, 1 otherwise,
2 on a usage error or a missing dependency.
"""
import glob
import json
import os
import sys

try:
    import jsonschema
    from referencing import Registry, Resource
except ImportError as e:  # pragma: no cover - depends on the host
    sys.stderr.write(
        "check.py: the Python package 'jsonschema' (4.18 or newer) is required "
        "but could not be imported (%s).\n"
        "Install it with:  python3 -m pip install jsonschema\n" % e)
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
MAIN_SCHEMA = "config.schema.json"


def load_validator():
    """Load every *.schema.json next to this script into one registry, check
    each against its metaschema, and return a validator for the top level."""
    resources = []
    main = None
    for path in sorted(glob.glob(os.path.join(HERE, "*.schema.json"))):
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        resources.append((schema["$id"], Resource.from_contents(schema)))
        if os.path.basename(path) == MAIN_SCHEMA:
            main = schema
    if main is None:
        raise SystemExit("check.py: %s not found in %s" % (MAIN_SCHEMA, HERE))
    registry = Registry().with_resources(resources)
    cls = jsonschema.validators.validator_for(main)
    return cls(main, registry=registry)


def json_path(error):
    """The failing instance location, written like $.process.args[0]."""
    out = "$"
    for part in error.absolute_path:
        out += "[%d]" % part if isinstance(part, int) else "." + str(part)
    return out


def leaf_errors(error):
    """Errors from anyOf/oneOf/if-then carry the useful detail in context."""
    if error.context:
        for sub in error.context:
            yield from leaf_errors(sub)
    else:
        yield error


def validate_file(validator, path):
    """Return a list of (json_path, message) for path; empty when valid."""
    try:
        with open(path, encoding="utf-8") as f:
            instance = json.load(f)
    except OSError as e:
        return [("$", "cannot read file: %s" % e.strerror)]
    except json.JSONDecodeError as e:
        return [("$", "not valid JSON: %s (line %d, column %d)" % (e.msg, e.lineno, e.colno))]
    problems = []
    for err in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        for leaf in leaf_errors(err):
            problems.append((json_path(leaf), leaf.message))
    return problems


def check_files(validator, paths):
    failed = 0
    for path in paths:
        problems = validate_file(validator, path)
        if not problems:
            print("ok %s" % path)
            continue
        failed += 1
        for where, message in problems:
            print("FAIL %s: %s: %s" % (path, where, message))
    return 1 if failed else 0


def self_test(validator):
    """Valid cases must produce no error. Invalid cases must produce at least
    one; where tests/invalid/NAME.expect exists, one error must be at the
    JSON path it names, so a case cannot pass by failing for another reason."""
    passed = failed = 0
    cases = [(p, True) for p in sorted(glob.glob(os.path.join(HERE, "tests", "valid", "*.json")))]
    cases += [(p, False) for p in sorted(glob.glob(os.path.join(HERE, "tests", "invalid", "*.json")))]
    for path, should_pass in cases:
        rel = os.path.relpath(path, HERE)
        problems = validate_file(validator, path)
        if should_pass:
            good = not problems
            detail = "; ".join("%s: %s" % p for p in problems)
        else:
            expect_file = path[:-len(".json")] + ".expect"
            expected = None
            if os.path.exists(expect_file):
                with open(expect_file, encoding="utf-8") as f:
                    expected = f.read().strip()
            good = bool(problems) and (expected is None or any(w == expected for w, _ in problems))
            if not problems:
                detail = "accepted, but should be rejected"
            else:
                detail = "; ".join("%s: %s" % p for p in problems)
                if not good:
                    detail = "no error at %s (got: %s)" % (expected, detail)
        if good:
            passed += 1
            print("PASS %s%s" % (rel, "" if should_pass else "  (rejected: %s)" % detail))
        else:
            failed += 1
            print("FAIL %s: %s" % (rel, detail))
    if not cases:
        print("no test cases found under %s" % os.path.join(HERE, "tests"))
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        sys.stderr.write(__doc__.lstrip())
        return 2 if not argv else 0
    validator = load_validator()
    if argv == ["--self-test"]:
        return self_test(validator)
    if "--self-test" in argv:
        sys.stderr.write("check.py: --self-test takes no other arguments\n")
        return 2
    return check_files(validator, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
