"""The one exception type the oracle raises for input outside the mathematical domain."""


class OracleInputError(ValueError):
    """An argument is outside the domain of the loss.

    The message always names the argument and the offending value, e.g.
    ``target: class index 7 at position (2,) is outside [0, 5)``.
    It subclasses ValueError so callers that already catch ValueError keep working.
    """
