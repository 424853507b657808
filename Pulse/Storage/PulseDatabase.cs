using Npgsql;
using Pulse.Configuration;

namespace Pulse.Storage;

/// <summary>Creates Pulse's data sources (the slim builder keeps the AOT binary small).</summary>
internal static class PulseDatabase
{
    public static NpgsqlDataSource Create(DatabaseOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Url))
        {
            throw new ConfigurationException("Database:Url", "not set (use --database-url, DATABASE_URL or PULSE_Database__Url)");
        }

        return Build(DatabaseUrl.ToConnectionString(options.Url, options.PoolSize, options.CommandTimeoutSeconds));
    }

    /// <summary>A data source on the slim builder with what Pulse's connections need; every Pulse data source is built here.</summary>
    public static NpgsqlDataSource Build(string connectionString)
    {
        var builder = new NpgsqlSlimDataSourceBuilder(connectionString);

        // TLS for every sslmode but disable (managed PostgreSQL services accept nothing else), and with
        // it SCRAM-SHA-256-PLUS channel binding. The slim builder leaves TLS out unless asked: without
        // this, any sslmode that tries TLS fails with NotSupportedException. GSS/SSPI (Kerberos,
        // EnableIntegratedSecurity) is not enabled: no PostgreSQL service offered to Pulse uses it.
        builder.EnableTransportSecurity();

        // The counting header returns text[] (the sides) and ViewModelQuery int[] per side; the slim
        // builder leaves arrays out unless asked.
        builder.EnableArrays();
        return builder.Build();
    }
}
