"""Pure domain: models, rules and errors. Standard library only."""
