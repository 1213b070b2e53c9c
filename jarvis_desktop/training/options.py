"""Options declared once on a dataclass, turned into ``argparse`` flags and back into an argv.

A field declared with :func:`option` carries its help text, unit, form label and form range in its
``metadata`` (:class:`OptionInfo`). From the dataclass alone:

* :func:`add_arguments` adds one ``--flag`` per option to an ``argparse`` parser (type from the annotation;
  a bool that defaults to True becomes ``--no-<name>``, one that defaults to False ``--<name>``);
* :func:`given_values` reads the options given on the command line back from the parsed namespace;
* :func:`to_argv` writes an instance as the arguments that parse back to it.

In the spirit of llama-cpp-python's ``server/cli.py`` (``add_args_from_model`` / ``parse_model_from_args``),
with dataclasses instead of pydantic models.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import TypeVar

T = TypeVar("T")
#: Types an option may have (its annotation).
OPTION_TYPES: tuple[type, ...] = (int, float, str, bool)


@dataclass(frozen=True)
class OptionInfo:
    """What a person needs to know about one option.

    ``help`` one sentence; ``unit`` of the value ("steps", "tokens", "" for none); ``label`` in a form
    (default: the name); ``minimum`` / ``maximum`` / ``step`` / ``decimals`` the range a form offers (the
    command line checks values elsewhere, e.g. :meth:`jarvis_desktop.jobs.spec.JobSpec.check`); ``special``
    the text a form shows at ``minimum`` (e.g. "by epochs"); ``aliases`` older flag spellings still accepted.
    """

    help: str
    unit: str = ""
    label: str = ""
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    decimals: int | None = None
    special: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Option:
    """One option of a dataclass: ``name``, Python ``type`` (int, float, str or bool), ``default``, ``info``."""

    name: str
    type: type
    default: object
    info: OptionInfo

    @property
    def flag(self) -> str:
        """The command-line flag: ``--max-steps``; ``--no-gguf`` for a bool that defaults to True."""
        dashed = self.name.replace("_", "-")
        return f"--no-{dashed}" if self.type is bool and self.default is True else f"--{dashed}"

    @property
    def label(self) -> str:
        """The form label (``info.label``, else the name with spaces)."""
        return self.info.label or self.name.replace("_", " ").capitalize()

    @property
    def help_text(self) -> str:
        """Help for ``--help``: the sentence, the unit and the default."""
        if self.type is bool or self.default == "":  # the sentence says what the absent option means
            return self.info.help
        unit = f" {self.info.unit}" if self.info.unit else ""
        return f"{self.info.help} (default {self.default}{unit})"


def option(
    default: T,
    help: str,
    *,
    unit: str = "",
    label: str = "",
    minimum: float | None = None,
    maximum: float | None = None,
    step: float | None = None,
    decimals: int | None = None,
    special: str = "",
    aliases: tuple[str, ...] = (),
) -> T:
    """A dataclass field holding ``default`` and its :class:`OptionInfo` (see the module docstring)."""
    info = OptionInfo(help, unit, label, minimum, maximum, step, decimals, special, aliases)
    return field(default=default, metadata={"option": info})


def options(cls: type, exclude: Iterable[str] = ()) -> Iterator[Option]:
    """The :func:`option` fields of dataclass ``cls`` in declaration order (those in ``exclude`` skipped).

    Raises:
        TypeError: an option's annotation is not int, float, str or bool.
    """
    hints = typing.get_type_hints(cls)
    skip = set(exclude)
    for f in fields(cls):
        info = f.metadata.get("option")
        if not isinstance(info, OptionInfo) or f.name in skip:
            continue
        kind = hints[f.name]
        if kind not in OPTION_TYPES:
            raise TypeError(f"option {cls.__name__}.{f.name}: type {kind!r} is not one of int, float, str, bool")
        yield Option(f.name, kind, f.default, info)


def find_option(cls: type, name: str) -> Option:
    """The option ``name`` of ``cls``. Raises KeyError when it has none of that name."""
    for opt in options(cls):
        if opt.name == name:
            return opt
    raise KeyError(name)


def add_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    *,
    exclude: Iterable[str] = (),
    none_defaults: bool = False,
) -> None:
    """Add one flag per option of ``cls`` to ``parser`` (``dest`` = the field name).

    ``none_defaults``: every flag defaults to None, so :func:`given_values` tells given options from the
    others (the caller then takes the rest from elsewhere: a stored job, the dataclass defaults).
    """
    for opt in options(cls, exclude):
        flags = [opt.flag, *opt.info.aliases]
        if opt.type is bool:
            value = not opt.default
            default = None if none_defaults else opt.default
            parser.add_argument(
                *flags, dest=opt.name, action="store_const", const=value, default=default, help=opt.help_text
            )
        else:
            metavar = opt.info.unit.upper().replace(" ", "_") if opt.info.unit else None
            parser.add_argument(
                *flags,
                dest=opt.name,
                type=opt.type,
                default=None if none_defaults else opt.default,
                metavar=metavar,
                help=opt.help_text,
            )


def given_values(args: argparse.Namespace, cls: type, exclude: Iterable[str] = ()) -> dict[str, object]:
    """``{name: value}`` of the options of ``cls`` given in ``args`` (parsed with ``none_defaults=True``)."""
    found = vars(args)
    return {opt.name: found[opt.name] for opt in options(cls, exclude) if found.get(opt.name) is not None}


def to_argv(obj: object, exclude: Iterable[str] = ()) -> list[str]:
    """The flags that parse back to dataclass instance ``obj`` (through :func:`add_arguments` and
    :func:`given_values` on top of the defaults): every int and float option (floats with ``repr``, exact),
    non-empty strings, and bools that differ from their default. Raises TypeError when ``obj`` is not a
    dataclass instance."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"to_argv needs a dataclass instance, got {obj!r}")
    argv: list[str] = []
    for opt in options(type(obj), exclude):
        value = getattr(obj, opt.name)
        if opt.type is bool:
            if value != opt.default:
                argv.append(opt.flag)
        elif opt.type is str:
            if value:
                argv += [opt.flag, str(value)]
        else:
            argv += [opt.flag, repr(value) if opt.type is float else str(value)]
    return argv


def option_values(obj: object, cls: type) -> Mapping[str, object]:
    """``{name: value}`` of ``obj`` for every option ``cls`` declares (``obj`` an instance of ``cls`` or of a
    subclass)."""
    return {opt.name: getattr(obj, opt.name) for opt in options(cls)}
