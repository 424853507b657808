namespace Pulse.Storage;

/// <summary>A database that cannot be used; <see cref="Exception.Message"/> is one line naming it and why (see <see cref="DatabaseFailure"/>).</summary>
internal sealed class DatabaseUnavailableException(string message, Exception inner) : Exception(message, inner);
