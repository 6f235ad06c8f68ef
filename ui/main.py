"""The `jangteo` command: with a COMMAND it is the command line (`pos.cli`); without one it
opens the till's window on the data directory."""

from __future__ import annotations

import sys

from pos import cli


def main(argv: list[str] | None = None) -> int:
    import printing.cli
    import sync.cli
    import ui.selftest

    extensions = (printing.cli, sync.cli, ui.selftest)
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = cli.detect_lang(cli._lang_from_argv(argv))
    args = cli.build_parser(lang, extensions).parse_args(argv)  # --help, --version end here
    if args.command is not None:
        return cli.main(argv, extensions)
    from ui.app import display_available, run_gui

    if not display_available():  # say so and how to use the command line; load nothing
        print(cli.say("no_display", lang), file=sys.stderr)
        return cli.main(argv, extensions)  # no command: `_cmd_none`, exit 2
    from pos.store import default_data_dir

    return run_gui(args.data_dir or default_data_dir(), args.lang)


if __name__ == "__main__":
    sys.exit(main())
