"""Every command's help describes real options; --version works."""

from click.testing import CliRunner

from reconciler import __version__
from reconciler.cli import main


def all_commands(group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if hasattr(command, "commands"):
            yield from all_commands(command, (*prefix, name))


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_every_command_has_help_describing_its_options():
    runner = CliRunner()
    commands = list(all_commands(main))
    assert {"validate", "schema"} <= {path[0] for path, _ in commands}
    for path, command in commands:
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, path
        assert command.help and command.help.split("\n")[0] in result.output
        for param in command.params:
            if param.param_type_name == "option" and not param.hidden:
                assert param.help, f"{' '.join(path)} {param.opts} has no help"
                assert param.opts[-1] in result.output
