"""`python -c CODE` and `python FILE` as the usual one-liners in manifests use them.

The code is not executed: it is read for the idioms that matter to a node (allocations such as
`bytearray(N)`, `' ' * N`, `[0] * N`; growth in an endless loop; busy loops; sleeps; exits; raised
exceptions; prints). Sizes are evaluated from integer arithmetic only.
"""

from __future__ import annotations

import ast
import math
import operator
import posixpath
import re
from collections.abc import Generator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..controllers.kubelet import Shell

INF = math.inf
ShellGen = Generator[tuple[str, float], None, int]
GROWTH_ITERATIONS_PER_SECOND = 20  # an append loop of big chunks: this many chunks a second
_OPS = {ast.Mult: operator.mul, ast.Add: operator.add, ast.Sub: operator.sub, ast.Pow: operator.pow}
_OPS |= {ast.FloorDiv: operator.floordiv, ast.LShift: operator.lshift}
_SIZED = [
    (re.compile(r"bytearray\(([^()]*(?:\([^()]*\))?[^()]*)\)"), 1),
    (re.compile(r"bytes\(([^()]*(?:\([^()]*\))?[^()]*)\)"), 1),
    (re.compile(r"""[bu]?(?:'[^']{1}'|"[^"]{1}")\s*\*\s*([\w\s*+().-]+)"""), 1),
    (re.compile(r"""\[\s*\w+\s*\]\s*\*\s*([\w\s*+().-]+)"""), 8),
    (re.compile(r"(?:np|numpy)\.(?:ones|zeros|empty)\(([^()]*(?:\([^()]*\))?[^()]*)\)"), 8),
]


def _number(expr: str) -> int:
    """Integer arithmetic (10**9, 1024*1024*512, 2 << 30) or 0 when it is anything else."""
    text = expr.strip().rstrip(",")
    while text.count(")") > text.count("("):  # the regex ran past the call's closing parenthesis
        text = text[: text.rindex(")")] + text[text.rindex(")") + 1 :]
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        return 0

    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return int(_OPS[type(node.op)](value(node.left), value(node.right)))
        raise ValueError(expr)

    try:
        return max(0, value(tree))
    except (ValueError, OverflowError, ZeroDivisionError):
        return 0


def allocation(code: str) -> int:
    """Bytes the largest single allocation in the code asks for."""
    best = 0
    for pattern, unit in _SIZED:
        for m in pattern.finditer(code):
            best = max(best, _number(m.group(1)) * unit)
    return best


def python(shell: Shell, cmd: str, args: list[str], quiet: bool) -> ShellGen:
    host = shell.host
    if "-c" in args:
        idx = args.index("-c")
        code = args[idx + 1] if idx + 1 < len(args) else ""
    else:
        files = [a for a in args if not a.startswith("-")]
        if not files:
            return 0  # the REPL on a closed stdin reads EOF and exits
        path = posixpath.join(host.workdir(), files[0])
        text = host.read_file(path)
        if text is None:
            host.log(f"{cmd}: can't open file '{path}': [Errno 2] No such file or directory")
            return 2
        code = text
    return (yield from run_code(shell, code, quiet))


def run_code(shell: Shell, code: str, quiet: bool) -> ShellGen:
    host = shell.host
    for m in re.finditer(r"""print\(\s*(?:f?'([^']*)'|f?"([^"]*)")\s*[,)]""", code):
        if not quiet:
            host.log(m.group(1) if m.group(1) is not None else m.group(2))
    chunk = allocation(code)
    endless = re.search(r"while\s*(True|1)\s*:", code) is not None
    grows = endless and re.search(r"\.append\(|\+=|\.extend\(", code) is not None
    if grows and chunk:
        while True:
            host.allocate(chunk * GROWTH_ITERATIONS_PER_SECOND)
            yield ("sleep", 1.0)
    host.allocate(chunk)
    if re.search(r"\binput\(", code):
        # A container has no stdin unless the pod asks for one: input() reads EOF at once.
        host.log("Traceback (most recent call last):")
        host.log('  File "<string>", line 1, in <module>')
        host.log("EOFError: EOF when reading a line")
        return 1
    raised = re.search(r"raise\s+(\w+)(?:\((.*?)\))?\s*$", code, re.M)
    if raised:
        message = (raised.group(2) or "").strip("'\"")
        host.log("Traceback (most recent call last):")
        host.log('  File "<string>", line 1, in <module>')
        host.log(f"{raised.group(1)}: {message}" if message else raised.group(1))
        return 1
    sleep = re.search(r"sleep\(\s*([0-9.e+*]+)\s*\)", code)
    if endless and not sleep:
        yield ("busy", INF)
    exit_m = re.search(r"(?:sys\.)?exit\(\s*(\d+)\s*\)", code)
    if sleep:
        try:
            seconds = float(sleep.group(1))
        except ValueError:
            seconds = float(_number(sleep.group(1)))
        if endless:
            yield ("forever", 0.0)
        yield ("sleep", seconds)
    return int(exit_m.group(1)) % 256 if exit_m else 0
