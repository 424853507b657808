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
    /// <summary>
    /// Trigger mode (docs/design.md §9, <c>004_notify_trigger_all_ops.sql</c>): one statement-level trigger per
    /// operation on <c>uniq_entry_keywords</c>, since PostgreSQL accepts transition tables only on a
    /// trigger of one event. Name, then the clause between <c>CREATE TRIGGER name</c> and <c>EXECUTE</c>.
    /// </summary>
    internal static readonly (string Name, string When)[] Triggers =
    [
        ("pulse_notify_insert", "AFTER INSERT ON uniq_entry_keywords REFERENCING NEW TABLE AS pulse_new_rows FOR EACH STATEMENT"),
        ("pulse_notify_update", "AFTER UPDATE ON uniq_entry_keywords REFERENCING OLD TABLE AS pulse_old_rows NEW TABLE AS pulse_new_rows FOR EACH STATEMENT"),
        ("pulse_notify_delete", "AFTER DELETE ON uniq_entry_keywords REFERENCING OLD TABLE AS pulse_old_rows FOR EACH STATEMENT"),
        ("pulse_notify_truncate", "AFTER TRUNCATE ON uniq_entry_keywords FOR EACH STATEMENT"),
    ];

    /// <summary>The INSERT-only trigger of earlier versions (function of <c>002</c>): removed in either mode.</summary>
    internal const string FormerTrigger = "pulse_notify_events";

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

        await ApplyTriggerModeAsync(connection, transaction, databaseTrigger, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return now;
    }

    /// <summary>
    /// Makes the triggers match the setting on every run: all of <see cref="Triggers"/> when on, none
    /// when off, <see cref="FormerTrigger"/> never. Only what differs is created or dropped, so a run that
    /// changes nothing takes no lock on <c>uniq_entry_keywords</c> (DROP TRIGGER takes an ACCESS
    /// EXCLUSIVE one, which would stall the writers and Pulse's own reads behind any long statement).
    /// </summary>
    private static async Task ApplyTriggerModeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, bool databaseTrigger, CancellationToken cancellationToken)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        await using (var select = new NpgsqlCommand("SELECT tgname FROM pg_trigger WHERE tgrelid = 'uniq_entry_keywords'::regclass AND NOT tgisinternal", connection, transaction))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                present.Add(reader.GetString(0));
            }
        }

        // Names are the constants above, never input: identifiers cannot be parameters.
        if (present.Contains(FormerTrigger))
        {
            await ExecuteAsync(connection, transaction, $"DROP TRIGGER {FormerTrigger} ON uniq_entry_keywords", cancellationToken);
        }

        foreach (var (name, when) in Triggers)
        {
            if (databaseTrigger && !present.Contains(name))
            {
                await ExecuteAsync(connection, transaction, $"CREATE TRIGGER {name} {when} EXECUTE FUNCTION pulse_notify_link_changes()", cancellationToken);
            }
            else if (!databaseTrigger && present.Contains(name))
            {
                await ExecuteAsync(connection, transaction, $"DROP TRIGGER {name} ON uniq_entry_keywords", cancellationToken);
            }
        }
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
