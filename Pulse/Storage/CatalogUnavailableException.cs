using Npgsql;

namespace Pulse.Storage;

/// <summary>
/// A catalog was asked before any read of its table succeeded (the database has been down since the
/// node started). An <see cref="NpgsqlException"/>, so every handler of "the database is unavailable"
/// (503 on HTTP, an error reply on a join) treats it as one.
/// </summary>
internal sealed class CatalogUnavailableException : NpgsqlException
{
    public CatalogUnavailableException(string table)
        : base($"the copy of {table} has not been read yet: the database has not answered since start-up")
    {
    }

    public CatalogUnavailableException()
    {
    }

    public CatalogUnavailableException(string? message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
