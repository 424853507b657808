using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Storage;

[Trait("Category", "postgres")] public sealed class MigratorTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Migrate_SecondRun_AppliesNothing()
    {
        var applied = await new Migrator(database.DataSource).MigrateAsync(false, CancellationToken.None);

        Assert.Empty(applied);
        Assert.Equal(Migrator.Scripts().Count(), (int)await database.ScalarAsync<long>("SELECT count(*) FROM schema_migrations"));
    }

    [Fact]
    public async Task Migrate_FourAtOnceOnEmptyDatabase_AllSucceedAndEachScriptAppliedOnce()
    {
        var fresh = new TestDatabase();
        await fresh.InitializeAsync();
        await using var cleanup = new AsyncCleanup(fresh.DisposeAsync);
        await fresh.ExecuteAsync("DROP TABLE uniq_entry_keywords, uniq_entries, keywords, events, api_keys, schema_migrations CASCADE");

        var runs = Enumerable.Range(0, 4).Select(_ => Task.Run(() => new Migrator(fresh.DataSource).MigrateAsync(false, CancellationToken.None))).ToArray();
        var results = await Task.WhenAll(runs);

        Assert.Equal(Migrator.Scripts().Count(), results.Sum(r => r.Count));
        Assert.Equal(Migrator.Scripts().Count(), (int)await fresh.ScalarAsync<long>("SELECT count(*) FROM schema_migrations"));
    }

    [Fact]
    public async Task Migrate_TriggerOnThenOff_StatementTriggersPerOperationThenNone()
    {
        await new Migrator(database.DataSource).MigrateAsync(true, CancellationToken.None);
        try
        {
            // tgtype bits (pg_trigger.h): 1 ROW, 2 BEFORE, 4 INSERT, 8 DELETE, 16 UPDATE, 32 TRUNCATE, 64
            // INSTEAD; one operation bit alone is an AFTER trigger FOR EACH STATEMENT of that operation.
            Assert.Equal(
                [
                    ("pulse_notify_delete", 8, "pulse_old_rows", null),
                    ("pulse_notify_insert", 4, null, "pulse_new_rows"),
                    ("pulse_notify_truncate", 32, null, null),
                    ("pulse_notify_update", 16, "pulse_old_rows", "pulse_new_rows"),
                ],
                (await TriggersAsync()).Select(t => (t.Name, t.Type, t.OldTable, t.NewTable)));
        }
        finally
        {
            await new Migrator(database.DataSource).MigrateAsync(false, CancellationToken.None);
        }

        Assert.Empty(await TriggersAsync());
    }

    [Fact]
    public async Task Migrate_TriggerOnTwice_SecondRunChangesNothing()
    {
        await new Migrator(database.DataSource).MigrateAsync(true, CancellationToken.None);
        try
        {
            var first = await TriggersAsync();

            var applied = await new Migrator(database.DataSource).MigrateAsync(true, CancellationToken.None);

            // The same trigger rows (same oids): not dropped and created again, so no lock was taken.
            Assert.Empty(applied);
            Assert.Equal(first, await TriggersAsync());
            Assert.Equal(Migrator.Triggers.Length, first.Count);
        }
        finally
        {
            await new Migrator(database.DataSource).MigrateAsync(false, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Migrate_FormerInsertOnlyTriggerPresent_RemovedWhenOnAndWhenOff()
    {
        // What `pulse migrate` of earlier versions installed in trigger mode.
        const string Former = "CREATE TRIGGER pulse_notify_events AFTER INSERT ON uniq_entry_keywords REFERENCING NEW TABLE AS pulse_new_rows FOR EACH STATEMENT EXECUTE FUNCTION pulse_notify_events()";
        await database.ExecuteAsync(Former);
        await new Migrator(database.DataSource).MigrateAsync(true, CancellationToken.None);
        try
        {
            Assert.Equal(Migrator.Triggers.Select(t => t.Name).Order(StringComparer.Ordinal), (await TriggersAsync()).Select(t => t.Name));
        }
        finally
        {
            await new Migrator(database.DataSource).MigrateAsync(false, CancellationToken.None);
        }

        await database.ExecuteAsync(Former);
        await new Migrator(database.DataSource).MigrateAsync(false, CancellationToken.None);
        Assert.Empty(await TriggersAsync());
    }

    [Fact]
    public async Task Migrate_TriggerOffTwice_NoTrigger()
    {
        await new Migrator(database.DataSource).MigrateAsync(false, CancellationToken.None);
        await new Migrator(database.DataSource).MigrateAsync(false, CancellationToken.None);

        Assert.Empty(await TriggersAsync());
    }

    /// <summary>Pulse's triggers on the links table, by name: oid, tgtype, transition table names.</summary>
    private async Task<List<(uint Oid, string Name, int Type, string? OldTable, string? NewTable)>> TriggersAsync()
    {
        var triggers = new List<(uint, string, int, string?, string?)>();
        await using var command = database.DataSource.CreateCommand(
            "SELECT oid, tgname, tgtype::int, tgoldtable::text, tgnewtable::text FROM pg_trigger WHERE tgrelid = 'uniq_entry_keywords'::regclass AND NOT tgisinternal AND tgname LIKE 'pulse%' ORDER BY tgname");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            triggers.Add((reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return triggers;
    }
}

internal sealed class AsyncCleanup(Func<Task> cleanup) : IAsyncDisposable
{
    public async ValueTask DisposeAsync() => await cleanup();
}
