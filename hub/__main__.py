from hub.cli.main import entry

entry()
