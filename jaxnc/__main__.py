from jaxnc.cli import entry_point

entry_point()
