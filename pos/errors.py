"""The one base of every error a person is shown: a `code` that keys its sentence in the
message catalogue (`pos.i18n`) and the `params` the sentence needs. Each layer's errors
(domain, store, import, printer, logo, sync) are kinds of it, so the CLI and the GUI turn any
of them into words the same way."""

from __future__ import annotations


class CodedError(Exception):
    def __init__(self, code: str, /, **params):
        super().__init__(code + (f" {params}" if params else ""))
        self.code = code
        self.params = params

    def text(self, lang: str = "ko") -> str:
        from pos.i18n import error_text

        return error_text(self, lang)
