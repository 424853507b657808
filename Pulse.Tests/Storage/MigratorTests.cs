using Pulse.Storage;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Storage;

public sealed class MigratorTests(TestDatabase database) : IClassFixture<TestDatabase>
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
    public async Task Migrate_TriggerOnThenOff_InstallsThenRemovesTrigger()
    {
        const string count = "SELECT count(*) FROM pg_trigger WHERE tgname = 'pulse_notify_events' AND NOT tgisinternal";
        await new Migrator(database.DataSource).MigrateAsync(true, CancellationToken.None);
        Assert.Equal(1L, await database.ScalarAsync<long>(count));

        await new Migrator(database.DataSource).MigrateAsync(false, CancellationToken.None);
        Assert.Equal(0L, await database.ScalarAsync<long>(count));
    }
}

internal sealed class AsyncCleanup(Func<Task> cleanup) : IAsyncDisposable
{
    public async ValueTask DisposeAsync() => await cleanup();
}
