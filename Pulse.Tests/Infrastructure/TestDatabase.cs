using Npgsql;

namespace Pulse.Tests.Infrastructure;

/// <summary>
/// A fresh, migrated database per test class (<c>IClassFixture&lt;TestDatabase&gt;</c>), so counts and
/// statement statistics of one class never see another's rows. Dropped at the end.
/// </summary>
public sealed class TestDatabase : IAsyncLifetime
{
    private static int _counter;
    private NpgsqlDataSource? _admin;

    public string Name { get; } = $"pulse_t{Environment.ProcessId}_{Interlocked.Increment(ref _counter)}";

    /// <summary>postgres:// URL of this database, as a user would configure Pulse.</summary>
    public string Url { get; private set; } = string.Empty;

    /// <summary>A plain (non-slim) data source for the tests' own writes and checks.</summary>
    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var server = new Uri(PostgresServer.Url);
        _admin = NpgsqlDataSource.Create(DatabaseUrl.ToConnectionString(PostgresServer.Url, 2, 30));
        await using (var create = _admin.CreateCommand($"CREATE DATABASE {Name}"))
        {
            // Name is generated above from digits and a fixed prefix: an identifier cannot be a parameter.
            await create.ExecuteNonQueryAsync();
        }

        Url = new UriBuilder(server) { Path = "/" + Name }.Uri.ToString();
        DataSource = NpgsqlDataSource.Create(DatabaseUrl.ToConnectionString(Url, 20, 30));
        await new Migrator(DataSource).MigrateAsync(databaseTrigger: false, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        if (_admin is not null)
        {
            await using (var drop = _admin.CreateCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)"))
            {
                await drop.ExecuteNonQueryAsync();
            }

            await _admin.DisposeAsync();
        }
    }

    public async Task<int> ExecuteAsync(string sql, params object[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        return await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Creates an event with sides → hashtags; returns its id and the keyword ids by hashtag.</summary>
    public async Task<(Guid EventId, Dictionary<string, Guid> Keywords)> CreateEventAsync(string name, DateTime startAt, DateTime endAt, params (string Query, string Hashtag)[] keywords)
    {
        var id = Guid.NewGuid();
        await ExecuteAsync("INSERT INTO events (id, name, start_at, end_at) VALUES ($1, $2, $3, $4)", id, name, startAt, endAt);
        var ids = new Dictionary<string, Guid>(StringComparer.Ordinal);
        foreach (var (query, hashtag) in keywords)
        {
            var keywordId = Guid.NewGuid();
            await ExecuteAsync("INSERT INTO keywords (id, event_id, query, name) VALUES ($1, $2, $3, $4)", keywordId, id, query, hashtag);
            ids[hashtag] = keywordId;
        }

        return (id, ids);
    }

    /// <summary>One tweet linked to the given keywords, as the background jobs write it.</summary>
    public async Task<Guid> InsertEntryAsync(DateTime createdAt, params Guid[] keywordIds)
    {
        var entryId = Guid.NewGuid();
        await ExecuteAsync("INSERT INTO uniq_entries (id, hashtags, flat_text, kind, created_at) VALUES ($1, $2, $3, 1, $4)", entryId, Array.Empty<string>(), "tweet", createdAt);
        foreach (var keywordId in keywordIds)
        {
            await ExecuteAsync("INSERT INTO uniq_entry_keywords (uniq_entry_id, keyword_id, created_at) VALUES ($1, $2, $3)", entryId, keywordId, createdAt);
        }

        return entryId;
    }

    public async Task<string> CreateApiKeyAsync(string name = "tests") => await ApiKeyStore.CreateAsync(DataSource, name, CancellationToken.None);
}
