"""No function in src/ runs over 80 lines unless a comment says why (docs/architecture.md,
"Size of a function").

    check_function_length.py ROOT          check every .cpp/.h under ROOT/src
    check_function_length.py --self-test   show that a long function is caught, and excused

A function is a brace block at namespace or class scope whose head (the text since the previous
`;`, `{` or `}` at that scope) ends in a parameter list: a definition, a constructor with its
initialiser list, a coroutine. Lambdas, control statements and nested blocks are part of the
function that holds them. Its length is the lines from the head's first line to the closing
brace. A longer function is excused by a comment in the lines just above its head (its doc
comment) that says "over 80 lines" and why.

A brace-counting reader, not a C++ parser: comments, string and character literals (raw strings
included) are blanked first, so braces inside them do not count; preprocessor lines are ignored.
"""

import os
import re
import sys
import tempfile

LIMIT = 80
EXCUSE_RE = re.compile(r"over 80 lines", re.I)
CONTROL_RE = re.compile(r"\b(if|for|while|switch|catch|do|else|try)\s*(\(|$)")
SCOPE_RE = re.compile(r"\b(namespace|class|struct|union|enum)\b")


def blank_code(text):
    """`text` with comments and literals replaced by spaces (newlines kept, so lines still count)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not text[i - 1].isalnum()):
            m = re.match(r'R"([^(\s]{0,16})\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i)
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            # A digit separator (1'000) is not a character literal.
            if c == "'" and i > 0 and text[i - 1].isalnum() and i + 1 < n and text[i + 1].isalnum():
                out.append(" ")
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(" " * (j - i))
            i = j
        elif c == "#" and (i == 0 or text[i - 1] == "\n"):
            # A preprocessor line, with its continuations.
            j = i
            while True:
                k = text.find("\n", j)
                if k < 0:
                    k = n
                    break
                if text[k - 1] != "\\":
                    break
                j = k + 1
            out.append(re.sub(r"[^\n]", " ", text[i:k]))
            i = k
        else:
            out.append(c)
            i += 1
    return "".join(out)


def is_function_head(head):
    """True when the text before a `{` at namespace/class scope opens a function body."""
    h = " ".join(head.split())
    if not h or SCOPE_RE.search(h.split("(")[0]) or "=" in h.split("(")[0] and "operator" not in h:
        return False
    if CONTROL_RE.match(h):
        return False
    # The parameter list may be followed by qualifiers, a trailing return type, or a
    # constructor's initialiser list, which itself ends in `)` or `}`-less `(...)`.
    return ")" in h


def long_functions(path, text):
    """[(first line, last line, name)] of the functions over LIMIT lines without an excuse."""
    code = blank_code(text)
    lines = text.split("\n")
    found = []
    # Each open brace: (is a function body, head start offset). Scope braces (namespace, class)
    # let the search for functions go on inside them; any other brace is inside a function.
    stack = []
    head_start = 0
    match = matching_braces(code)
    i = -1
    while i + 1 < len(code):
        i += 1
        c = code[i]
        if c == "{":
            inside_function = any(f for f, _ in stack)
            if inside_function:
                stack.append((False, 0))
                continue
            head = code[head_start:i]
            # A member's brace initialiser in a constructor's initialiser list (`b_{a},` or
            # `b_{a} {`) belongs to the head: skip over it.
            after = code[match.get(i, i) + 1:].lstrip()[:1]
            if ")" in head and after in (",", "{"):
                i = match.get(i, i)
                continue
            if is_function_head(head):
                stack.append((True, head_start + len(head) - len(head.lstrip())))
            else:
                stack.append((False, 0))
                head_start = i + 1
        elif c == "}":
            if not stack:
                continue
            is_fn, start = stack.pop()
            if is_fn:
                first = code.count("\n", 0, start) + 1
                last = code.count("\n", 0, i) + 1
                if last - first + 1 > LIMIT and not excused(lines, first):
                    name = " ".join(code[start:].split("(")[0].split())[-60:]
                    found.append((first, last, name))
            if not any(f for f, _ in stack):
                head_start = i + 1
        elif c == ";" and not any(f for f, _ in stack):
            head_start = i + 1
    return found


def matching_braces(code):
    """{offset of "{": offset of its "}"} over the blanked code."""
    pairs, open_at = {}, []
    for i, c in enumerate(code):
        if c == "{":
            open_at.append(i)
        elif c == "}" and open_at:
            pairs[open_at.pop()] = i
    return pairs


def excused(lines, first):
    """A comment block right above line `first` (1-based) saying "over 80 lines"."""
    j = first - 2
    block = []
    while j >= 0 and lines[j].lstrip().startswith(("//", "*", "/*")):
        block.append(lines[j])
        j -= 1
    # Templates and attributes may stand between the comment and the head.
    if not block and j >= 0 and lines[j].lstrip().startswith(("template", "[[")):
        return excused(lines, j + 1)
    return bool(EXCUSE_RE.search(" ".join(block)))


def check(root):
    found = []
    src = os.path.join(root, "src")
    for dirpath, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".cpp", ".h")):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for first, last, fn in long_functions(path, text):
                found.append(f"{os.path.relpath(path, root)}:{first}: {fn} is "
                             f"{last - first + 1} lines (over {LIMIT}, no comment says why)")
    return found


def self_test():
    body = "\n".join(f"    x += {i};" for i in range(LIMIT))
    long_fn = f"int f(int x) {{\n{body}\n    return x;\n}}\n"
    cases = {
        "long": (f"namespace a {{\n{long_fn}}}\n", 1),
        "excused": (f"// Over 80 lines because the test says so.\n{long_fn}", 0),
        "short": ("int g() {\n    return 1;\n}\n", 0),
        "lambda inside counts": (
            "void h() {\n    auto l = [] {\n" + body + "\n    };\n    l();\n}\n", 1),
        "braces in strings": ('int k() {\n    const char* s = "}}}";\n' + body + "\n}\n", 1),
        "class member": ("struct S {\n    int m(int x) const {\n" + body + "\n    }\n};\n", 1),
        "constructor init list": ("S::S(int a)\n    : a_(a), b_{a} {\n" + body + "\n}\n", 1),
    }
    ok = True
    with tempfile.TemporaryDirectory() as d:
        for name, (text, want) in cases.items():
            got = len(long_functions(os.path.join(d, "x.cpp"), text))
            if got != want:
                print(f"self-test '{name}': found {got} long function(s), want {want}")
                ok = False
    print("function length self-test:", "ok" if ok else "FAILED")
    return ok


def main(argv):
    if argv[1:] == ["--self-test"]:
        return 0 if self_test() else 1
    if len(argv) != 2:
        print(__doc__)
        return 2
    found = check(argv[1])
    for f in found:
        print(f)
    print(f"function length: {len(found)} function(s) over {LIMIT} lines without a reason")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
