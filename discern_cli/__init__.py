"""The `discern` command line: typer commands over the `router` library, rendered with rich."""
