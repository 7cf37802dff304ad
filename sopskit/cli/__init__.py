"""The command line: click only. A command parses options, calls one library function, renders."""
