using Npgsql;
using Pulse.Configuration;

namespace Pulse.Storage;

/// <summary>Creates Pulse's one <see cref="NpgsqlDataSource"/> (the slim builder keeps the AOT binary small).</summary>
internal static class PulseDatabase
{
    public static NpgsqlDataSource Create(DatabaseOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Url))
        {
            throw new ConfigurationException("Database:Url", "not set (use --database-url, DATABASE_URL or PULSE_Database__Url)");
        }

        var builder = new NpgsqlSlimDataSourceBuilder(DatabaseUrl.ToConnectionString(options.Url, options.PoolSize, options.CommandTimeoutSeconds));

        // The view-model statement returns int[] per side; the slim builder leaves arrays out unless asked.
        builder.EnableArrays();
        return builder.Build();
    }
}
