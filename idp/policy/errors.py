"""The start-up error raised when a policy file is missing or wrong."""


class PolicyError(Exception):
    """A policy file cannot be used; one line per problem, `<file>: <key.path>: <reason>`.

    Plain `Exception`, not a `DomainError`: it is read by operators at start-up, never translated.
    """
