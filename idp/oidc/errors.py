"""Errors of the oidc capability."""


class ClientConfigError(Exception):
    """A `clients/*.toml` file is wrong; one line per problem, `<file>: <key.path>: <reason>`.

    Plain `Exception`, not a `DomainError`: it is read by operators running `idp clients sync`,
    never translated.
    """


class SigningKeyError(Exception):
    """A signing key is missing, unsupported or cannot be decrypted.

    Plain `Exception`, not a `DomainError`: it means the deployment is misconfigured (no key yet,
    wrong IDP_KEY_ENCRYPTION_KEY); operators read it, users never do.
    """
