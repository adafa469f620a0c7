"""A pickle reader that builds plain data and NumPy arrays, and never runs code.

Keras publishes IMDB and Reuters as ``.npz`` files whose sequences are NumPy
object arrays, which NumPy can only store as a pickle stream; CIFAR's "python
version" batches are pickled dicts. ``pickle.load`` on such a file would run
whatever callable the file names. This module reads the stream itself, one
opcode at a time, and gives meaning to a small closed set of them:

* plain values: ints, floats, bools, None, str, bytes (Python 2 ``str`` is
  read as bytes), tuples, lists and dicts, the memo, marks;
* exactly four names, which are never imported or called: NumPy's array
  reconstructor ``_reconstruct(ndarray, (0,), b"b")`` followed by its
  ``BUILD`` state ``(1, shape, dtype, fortran, data)``, ``dtype(name, 0, 1)``
  followed by its ``BUILD`` state, and ``_codecs.encode(text, "latin1")`` (how
  protocol 2 spells bytes). The array is made here with ``np.frombuffer`` (or
  filled element by element for object arrays), the dtype with ``np.dtype``
  from a known-safe name.

Any other name (``os.system``, ``builtins.eval``...), any other use of
``REDUCE``/``BUILD``, and the object-building opcodes (``INST``, ``OBJ``,
``NEWOBJ``, persistent ids, extension codes, out-of-band buffers) make the
reader stop with :class:`UnsafePickleError`, before anything is built from
them. Nothing is imported, called or looked up by a name read from the file.

Example:
    >>> import pickle
    >>> loads_safely(pickle.dumps({"a": [1, 2, (3, None)]}, protocol=2))
    {'a': [1, 2, (3, None)]}
    >>> loads_safely(b"cos\\nsystem\\n(S'echo hi'\\ntR.")
    Traceback (most recent call last):
    ...
    chainrule.datasets._safe_pickle.UnsafePickleError: the pickle stream refers to os.system...
"""

from __future__ import annotations

import codecs
import struct

import numpy as np

__all__ = ["PickleFormatError", "UnsafePickleError", "loads_safely"]


class PickleFormatError(ValueError):
    """The stream is not a well-formed pickle of the data this reader accepts."""


class UnsafePickleError(PickleFormatError):
    """The stream asks for something other than plain data and NumPy arrays."""


_RECONSTRUCT, _NDARRAY, _DTYPE, _ENCODE = "_reconstruct", "ndarray", "dtype", "encode"
#: (module, name) -> symbol; the only names a stream may mention.
_NAMES = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DTYPE,
    ("_codecs", "encode"): _ENCODE,
}
#: dtype names an array may have: numbers, bools and Python objects, nothing with fields.
_DTYPE_NAMES = frozenset(
    ["b1", "O4", "O8"]
    + [f"{k}{n}" for k in "iu" for n in (1, 2, 4, 8)]
    + [f"f{n}" for n in (2, 4, 8)]
    + [f"c{n}" for n in (8, 16)]
)


class _Symbol:
    """One of the allowed names, as a token: it is never called."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _DtypeState:
    __slots__ = ("dtype",)

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype


class _ArrayState:
    """An array between ``_reconstruct`` and its ``BUILD``; memo keys to update."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: list = []


def _text(value: object, what: str) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, str):
        return value
    raise PickleFormatError(f"{what} must be a string, found {type(value).__name__}")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.stack: list = []
        self.marks: list[int] = []
        self.memo: dict = {}

    # -- reading bytes ----------------------------------------------------------------------
    def take(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise PickleFormatError(
                f"truncated stream: {n} bytes needed at offset {self.pos}, "
                f"{len(self.data) - self.pos} left"
            )
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def line(self) -> bytes:
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            raise PickleFormatError(f"truncated stream: no end of line after offset {self.pos}")
        chunk = self.data[self.pos : end]
        self.pos = end + 1
        return chunk

    def pop_mark(self) -> list:
        if not self.marks:
            raise PickleFormatError(f"an opcode at offset {self.pos} needs a MARK; none is open")
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def pop(self):
        if len(self.stack) <= (self.marks[-1] if self.marks else 0):
            raise PickleFormatError(f"stack underflow at offset {self.pos}")
        return self.stack.pop()

    def top(self):
        if not self.stack:
            raise PickleFormatError(f"stack underflow at offset {self.pos}")
        return self.stack[-1]

    # -- the allowed calls ------------------------------------------------------------------
    def name(self, module: str, qualname: str):
        symbol = _NAMES.get((module, qualname))
        if symbol is None:
            raise UnsafePickleError(
                f"the pickle stream refers to {module}.{qualname}; only plain data and NumPy "
                "arrays are accepted, so it was not loaded"
            )
        return _Symbol(symbol)

    def reduce(self, func, args):
        what = func.name if isinstance(func, _Symbol) else type(func).__name__
        if not isinstance(func, _Symbol) or not isinstance(args, tuple):
            raise UnsafePickleError(f"the pickle stream calls {what}, which is not accepted")
        if func.name == _RECONSTRUCT:
            if (len(args) == 3 and isinstance(args[0], _Symbol) and args[0].name == _NDARRAY
                    and args[1] == (0,) and _text(args[2], "array type code") == "b"):
                return _ArrayState()
        elif func.name == _DTYPE:
            if len(args) == 3 and isinstance(args[0], (str, bytes)):
                name = _text(args[0], "dtype name")
                if name in _DTYPE_NAMES:
                    return _DtypeState(np.dtype(name))
        elif func.name == _ENCODE:
            if (len(args) == 2 and isinstance(args[0], str)
                    and args[1] in ("latin1", "latin-1")):
                return args[0].encode("latin-1")
        raise UnsafePickleError(
            f"the pickle stream calls {func.name} with arguments this reader does not accept "
            f"({', '.join(type(a).__name__ for a in args)})"
        )

    def build(self, obj, state):
        if isinstance(obj, _DtypeState):
            if not isinstance(state, tuple) or len(state) < 5 or any(
                s is not None for s in state[2:5]
            ):
                raise UnsafePickleError("a dtype's state is not that of a plain number type")
            order = _text(state[1], "byte order")
            if order not in "<>|=" or len(order) != 1:
                raise PickleFormatError(f"unknown byte order {order!r}")
            if order in "<>":
                obj.dtype = obj.dtype.newbyteorder(order)
            return obj
        if isinstance(obj, _ArrayState):
            return self.build_array(obj, state)
        raise UnsafePickleError(
            f"the pickle stream sets the state of a {type(obj).__name__}; only NumPy arrays "
            "and dtypes may have one"
        )

    def build_array(self, obj: _ArrayState, state) -> np.ndarray:
        if not (isinstance(state, tuple) and len(state) == 5 and state[0] == 1
                and isinstance(state[1], tuple) and isinstance(state[2], _DtypeState)):
            raise UnsafePickleError("an array's state is not (1, shape, dtype, fortran, data)")
        shape, dtype, fortran, raw = state[1], state[2].dtype, state[3], state[4]
        if not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 32:
            raise PickleFormatError(f"an array has an invalid shape {shape!r}")
        count = 1
        for n in shape:
            count *= n
        order = "F" if fortran else "C"
        if dtype.kind == "O":
            if not isinstance(raw, list) or len(raw) != count:
                raise PickleFormatError(
                    f"an object array of shape {shape} needs a list of {count} items, "
                    f"found {type(raw).__name__}"
                )
            if any(isinstance(v, (_ArrayState, _DtypeState, _Symbol)) for v in raw):
                raise UnsafePickleError("an object array holds an unfinished object")
            array = np.empty(count, dtype=object)
            array[:] = raw if count else array
            array = array.reshape(shape, order=order)
        else:
            if not isinstance(raw, bytes):
                raise PickleFormatError(f"a {dtype} array's data is a {type(raw).__name__}")
            if len(raw) != count * dtype.itemsize:
                raise PickleFormatError(
                    f"an array of shape {shape} and dtype {dtype} needs "
                    f"{count * dtype.itemsize} bytes, found {len(raw)}"
                )
            array = np.frombuffer(raw, dtype=dtype).reshape(shape, order=order).copy(order="K")
        for key in obj.keys:  # the memo held the unfinished array: give it the real one
            self.memo[key] = array
        return array

    def put(self, key) -> None:
        value = self.top()
        self.memo[key] = value
        if isinstance(value, _ArrayState):
            value.keys.append(key)

    def get(self, key):
        try:
            return self.memo[key]
        except KeyError:
            raise PickleFormatError(f"the stream reads memo entry {key}, never written") from None

    # -- the loop ---------------------------------------------------------------------------
    def run(self):  # noqa: C901 - one branch per opcode is the clearest form
        data, stack, unpack = self.data, self.stack, struct.unpack_from
        size = len(data)
        while True:
            if self.pos >= size:
                raise PickleFormatError("truncated stream: it ends before STOP")
            op = data[self.pos]
            self.pos += 1
            # the ints of a list of ints come first: they are most of IMDB's opcodes
            if op == 0x4B:  # K BININT1
                stack.append(data[self.pos])
                self.pos += 1
            elif op == 0x4D:  # M BININT2
                stack.append(data[self.pos] | data[self.pos + 1] << 8)
                self.pos += 2
            elif op == 0x4A:  # J BININT
                stack.append(unpack("<i", data, self.pos)[0])
                self.pos += 4
            elif op == 0x28:  # ( MARK
                self.marks.append(len(stack))
                # a list's items usually follow: read a run of small ints in a tight loop
                pos, push = self.pos, stack.append
                while True:
                    item = data[pos]
                    if item == 0x4B:
                        push(data[pos + 1])
                        pos += 2
                    elif item == 0x4D:
                        push(data[pos + 1] | data[pos + 2] << 8)
                        pos += 3
                    elif item == 0x4A:
                        push(unpack("<i", data, pos + 1)[0])
                        pos += 5
                    else:
                        break
                self.pos = pos
            elif op == 0x65:  # e APPENDS
                items = self.pop_mark()
                target = self.top()
                if not isinstance(target, list):
                    raise PickleFormatError("APPENDS to something that is not a list")
                target.extend(items)
            elif op == 0x61:  # a APPEND
                value = self.pop()
                target = self.top()
                if not isinstance(target, list):
                    raise PickleFormatError("APPEND to something that is not a list")
                target.append(value)
            elif op == 0x5D:  # ] EMPTY_LIST
                stack.append([])
            elif op == 0x6C:  # l LIST
                stack.append(self.pop_mark())
            elif op == 0x71:  # q BINPUT
                self.put(data[self.pos])
                self.pos += 1
            elif op == 0x72:  # r LONG_BINPUT
                self.put(unpack("<I", data, self.pos)[0])
                self.pos += 4
            elif op == 0x94:  # MEMOIZE
                self.put(len(self.memo))
            elif op == 0x68:  # h BINGET
                stack.append(self.get(data[self.pos]))
                self.pos += 1
            elif op == 0x6A:  # j LONG_BINGET
                stack.append(self.get(unpack("<I", data, self.pos)[0]))
                self.pos += 4
            elif op == 0x70:  # p PUT
                self.put(int(self.line()))
            elif op == 0x67:  # g GET
                stack.append(self.get(int(self.line())))
            elif op == 0x4E:  # N NONE
                stack.append(None)
            elif op == 0x88:  # NEWTRUE
                stack.append(True)
            elif op == 0x89:  # NEWFALSE
                stack.append(False)
            elif op == 0x49:  # I INT (protocol 0; "01"/"00" are True/False)
                text = self.line()
                stack.append({b"01": True, b"00": False}.get(text) if text in (b"01", b"00")
                             else int(text))
            elif op == 0x4C:  # L LONG (protocol 0)
                stack.append(int(self.line().rstrip(b"L")))
            elif op == 0x8A:  # LONG1
                n = self.take(1)[0]
                stack.append(int.from_bytes(self.take(n), "little", signed=True))
            elif op == 0x8B:  # LONG4
                n = unpack("<i", self.take(4))[0]
                stack.append(int.from_bytes(self.take(n), "little", signed=True))
            elif op == 0x46:  # F FLOAT
                stack.append(float(self.line()))
            elif op == 0x47:  # G BINFLOAT
                stack.append(unpack(">d", self.take(8))[0])
            elif op == 0x55:  # U SHORT_BINSTRING (Python 2 str: bytes)
                stack.append(self.take(self.take(1)[0]))
            elif op == 0x54:  # T BINSTRING
                stack.append(self.take(unpack("<i", self.take(4))[0]))
            elif op == 0x53:  # S STRING (protocol 0, a quoted literal)
                text = self.line()
                if len(text) < 2 or text[0] != text[-1] or text[:1] not in (b"'", b'"'):
                    raise PickleFormatError("a STRING opcode without quotes")
                stack.append(codecs.escape_decode(text[1:-1])[0])
            elif op == 0x43:  # C SHORT_BINBYTES
                stack.append(self.take(self.take(1)[0]))
            elif op == 0x42:  # B BINBYTES
                stack.append(self.take(unpack("<I", self.take(4))[0]))
            elif op == 0x8E:  # BINBYTES8
                stack.append(self.take(unpack("<Q", self.take(8))[0]))
            elif op == 0x96:  # BYTEARRAY8
                stack.append(bytes(self.take(unpack("<Q", self.take(8))[0])))
            elif op == 0x8C:  # SHORT_BINUNICODE
                stack.append(self.take(self.take(1)[0]).decode("utf-8", "surrogatepass"))
            elif op == 0x58:  # X BINUNICODE
                stack.append(self.take(unpack("<I", self.take(4))[0]).decode("utf-8",
                                                                             "surrogatepass"))
            elif op == 0x8D:  # BINUNICODE8
                stack.append(self.take(unpack("<Q", self.take(8))[0]).decode("utf-8",
                                                                             "surrogatepass"))
            elif op == 0x56:  # V UNICODE (protocol 0)
                stack.append(self.line().decode("raw-unicode-escape"))
            elif op == 0x29:  # ) EMPTY_TUPLE
                stack.append(())
            elif op == 0x85:  # TUPLE1
                stack.append((self.pop(),))
            elif op == 0x86:  # TUPLE2
                b, a = self.pop(), self.pop()
                stack.append((a, b))
            elif op == 0x87:  # TUPLE3
                c, b, a = self.pop(), self.pop(), self.pop()
                stack.append((a, b, c))
            elif op == 0x74:  # t TUPLE
                stack.append(tuple(self.pop_mark()))
            elif op == 0x7D:  # } EMPTY_DICT
                stack.append({})
            elif op == 0x64:  # d DICT
                items = self.pop_mark()
                stack.append(self.pairs({}, items))
            elif op == 0x73:  # s SETITEM
                value, key = self.pop(), self.pop()
                self.pairs(self.top(), [key, value])
            elif op == 0x75:  # u SETITEMS
                items = self.pop_mark()
                self.pairs(self.top(), items)
            elif op == 0x30:  # 0 POP
                if self.marks and self.marks[-1] == len(stack):
                    self.marks.pop()
                else:
                    self.pop()
            elif op == 0x31:  # 1 POP_MARK
                self.pop_mark()
            elif op == 0x32:  # 2 DUP
                stack.append(self.top())
            elif op == 0x63:  # c GLOBAL
                module = self.line().decode("utf-8", "replace")
                stack.append(self.name(module, self.line().decode("utf-8", "replace")))
            elif op == 0x93:  # STACK_GLOBAL
                qualname, module = self.pop(), self.pop()
                if not isinstance(module, str) or not isinstance(qualname, str):
                    raise PickleFormatError("STACK_GLOBAL needs two strings")
                stack.append(self.name(module, qualname))
            elif op == 0x52:  # R REDUCE
                args, func = self.pop(), self.pop()
                stack.append(self.reduce(func, args))
            elif op == 0x62:  # b BUILD
                state = self.pop()
                stack[-1] = self.build(self.top(), state)
            elif op == 0x80:  # PROTO
                if self.take(1)[0] > 5:
                    raise PickleFormatError("unknown pickle protocol")
            elif op == 0x95:  # FRAME: only a length hint
                self.take(8)
            elif op == 0x2E:  # . STOP
                if len(stack) != 1 or self.marks:
                    raise PickleFormatError("the stream stops with a malformed stack")
                value = stack[0]
                if isinstance(value, (_ArrayState, _DtypeState, _Symbol)):
                    raise UnsafePickleError("the stream's value is not plain data")
                return value
            else:
                names = {0x69: "INST", 0x6F: "OBJ", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX",
                         0x50: "PERSID", 0x51: "BINPERSID", 0x82: "EXT1", 0x83: "EXT2",
                         0x84: "EXT4", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
                         0x8F: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET"}
                if op in names:
                    raise UnsafePickleError(
                        f"the pickle stream uses {names[op]} at offset {self.pos - 1}; only "
                        "plain data and NumPy arrays are accepted"
                    )
                raise PickleFormatError(f"unknown opcode 0x{op:02x} at offset {self.pos - 1}")

    def pairs(self, target, items: list) -> dict:
        if not isinstance(target, dict) or len(items) % 2:
            raise PickleFormatError("dict items that do not pair up, or a target that is no dict")
        for i in range(0, len(items), 2):
            key = items[i]
            if not isinstance(key, (str, bytes, int, float, bool, type(None), tuple)):
                raise PickleFormatError(f"a dict key of type {type(key).__name__}")
            target[key] = items[i + 1]
        return target


def loads_safely(data: bytes) -> object:
    """Read a pickle stream of plain data and NumPy arrays without unpickling it.

    Args:
        data: the pickle stream (bytes after it are ignored, as ``pickle.loads`` does).

    Returns:
        The value: ints, floats, bools, None, str, bytes, tuples, lists, dicts
        and NumPy arrays (object arrays hold such values).

    Raises:
        UnsafePickleError: the stream names any other callable or builds other
            objects; nothing of it was run.
        PickleFormatError: the stream is truncated or malformed.
    """
    reader = _Reader(bytes(data))
    try:
        return reader.run()
    except PickleFormatError:
        raise
    except (IndexError, struct.error, ValueError, TypeError, OverflowError,
            UnicodeDecodeError) as e:
        raise PickleFormatError(f"malformed stream near offset {reader.pos} ({e})") from None
