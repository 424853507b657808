using System.Reflection;
using Npgsql;

namespace Pulse.Storage;

/// <summary>
/// Applies the embedded <c>Storage/Migrations/NNN_name.sql</c> files in name order, each once,
/// recorded in <c>schema_migrations</c>. Everything runs in one transaction under a transaction-level
/// advisory lock, so two nodes migrating at once serialize: the second waits, then finds nothing to do.
/// </summary>
internal sealed class Migrator(NpgsqlDataSource dataSource)
{
    // Any constant shared by all Pulse nodes; "pulse" in ASCII.
    private const long AdvisoryLockKey = 0x70_75_6c_73_65;
    private const string ResourcePrefix = "Pulse.Migrations.";

    /// <summary>Runs the migrations; returns the versions applied now (empty when up to date).</summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(bool databaseTrigger, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AdvisoryLockKey });
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await ExecuteAsync(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", cancellationToken);
        var applied = new HashSet<string>(StringComparer.Ordinal);
        await using (var select = new NpgsqlCommand("SELECT version FROM schema_migrations", connection, transaction))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetString(0));
            }
        }

        var now = new List<string>();
        foreach (var (version, sql) in Scripts())
        {
            if (applied.Contains(version))
            {
                continue;
            }

            await ExecuteAsync(connection, transaction, sql, cancellationToken);
            await using var record = new NpgsqlCommand("INSERT INTO schema_migrations (version) VALUES ($1)", connection, transaction);
            record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = version });
            await record.ExecuteNonQueryAsync(cancellationToken);
            now.Add(version);
        }

        // Trigger mode follows the configuration on every run (DESIGN §9): installed when on, removed when off.
        await ExecuteAsync(connection, transaction, "DROP TRIGGER IF EXISTS pulse_notify_events ON uniq_entry_keywords", cancellationToken);
        if (databaseTrigger)
        {
            await ExecuteAsync(
                connection,
                transaction,
                "CREATE TRIGGER pulse_notify_events AFTER INSERT ON uniq_entry_keywords REFERENCING NEW TABLE AS pulse_new_rows FOR EACH STATEMENT EXECUTE FUNCTION pulse_notify_events()",
                cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return now;
    }

    /// <summary>The embedded scripts, ordered by version (the file name without <c>.sql</c>).</summary>
    public static IEnumerable<(string Version, string Sql)> Scripts()
    {
        var assembly = typeof(Migrator).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            yield return (name[ResourcePrefix.Length..^4], reader.ReadToEnd());
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
