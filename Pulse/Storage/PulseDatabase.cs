using Npgsql;
using Pulse.Configuration;

namespace Pulse.Storage;

/// <summary>Creates Pulse's data sources (the slim builder keeps the AOT binary small).</summary>
internal static class PulseDatabase
{
    /// <summary>Sent on every new connection of a Pulse data source.</summary>
    internal const string NoJitSql = "SET jit = off";

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

        // Once per physical connection, not per statement (no reset on return keeps it: DatabaseUrl). JIT
        // compiles a plan whose estimated cost passes jit_above_cost, which a full read of a big event does
        // by estimate alone: 10 to 700 ms of compiling for a statement that runs in less than one (measured
        // at 10,000,000 links). Pulse's reads are index walks; JIT gains them nothing.
        builder.UsePhysicalConnectionInitializer(
            static connection =>
            {
                using var command = new NpgsqlCommand(NoJitSql, connection);
                command.ExecuteNonQuery();
            },
            static async connection =>
            {
                await using var command = new NpgsqlCommand(NoJitSql, connection);
                await command.ExecuteNonQueryAsync();
            });
        return builder.Build();
    }
}
