"""The list of top-level commands. Each command module adds its commands here."""

from __future__ import annotations

import click

ALL: list[click.Command] = []

from sopskit.cli.identity_cmds import identity_group  # noqa: E402

ALL.append(identity_group)

from sopskit.cli import demo, doctor, file_cmds  # noqa: E402

ALL += [*file_cmds.COMMANDS, doctor.doctor_cmd, demo.demo_cmd]

from sopskit.cli import registry_cmds  # noqa: E402

ALL += registry_cmds.COMMANDS

from sopskit.cli import rekey_cmds  # noqa: E402

ALL += rekey_cmds.COMMANDS

from sopskit.cli import audit_cmd  # noqa: E402

ALL += audit_cmd.COMMANDS
