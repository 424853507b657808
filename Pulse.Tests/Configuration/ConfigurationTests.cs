using System.Globalization;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Configuration;

/// <summary>Precedence, environment names and validation of docs/design.md §3; pure (no database).</summary>
[Trait("Category", "unit")] public sealed class ConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pulse-config-tests").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Load_Nothing_YieldsDefaults()
    {
        Assert.Equal(Json(new PulseOptions()), Json(Load()));
    }

    [Fact]
    public void Load_PulseEnvironmentVariable_SetsNestedKey()
    {
        Assert.Equal(250, Load(env: new() { ["PULSE_Broadcast__TickMilliseconds"] = "250" }).Broadcast.TickMilliseconds);
    }

    [Fact]
    public void Load_AllSources_CommandLineBeatsEnvironmentBeatsFileBeatsDefaults()
    {
        var file = WriteFile("""{ "Broadcast": { "TickMilliseconds": 100, "MaxConcurrentComputations": 8 }, "Shutdown": { "DrainSeconds": 3 } }""");
        var options = Load(
            file,
            cli: new() { ["Broadcast:TickMilliseconds"] = "300" },
            env: new() { ["PULSE_Broadcast__TickMilliseconds"] = "200", ["PULSE_Broadcast__MaxConcurrentComputations"] = "16" });
        Assert.Equal(300, options.Broadcast.TickMilliseconds);           // command line
        Assert.Equal(16, options.Broadcast.MaxConcurrentComputations);   // environment over file
        Assert.Equal(3, options.Shutdown.DrainSeconds);                  // file over default
        Assert.Equal(60, options.WebSocket.HeartbeatTimeoutSeconds);     // default
    }

    [Fact]
    public void Load_UrlsOnCommandLine_BeatsEnvironment()
    {
        var options = Load(cli: new() { ["Urls"] = "http://127.0.0.1:5000" }, env: new() { ["PULSE_Urls"] = "http://127.0.0.1:6000" });
        Assert.Equal("http://127.0.0.1:5000", options.Urls);
    }

    [Fact]
    public void Load_ExampleFile_YieldsExactlyTheDefaults()
    {
        var path = Path.Combine(PostgresServer.RepositoryRoot, "pulse.example.json");
        Assert.Equal(Json(new PulseOptions()), Json(Load(path)));
    }

    [Fact]
    public void ExampleFile_EveryKey_DocumentedAndNoOther()
    {
        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(PostgresServer.RepositoryRoot, "pulse.example.json")));
        var documented = new SortedSet<string>(StringComparer.Ordinal);
        Leaves(file.RootElement, string.Empty, documented);
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        Keys(typeof(PulseOptions), string.Empty, keys);
        Assert.Equal(keys, documented);
    }

    [Fact]
    public void Load_MissingConfigFile_NamesConfig()
    {
        var e = Assert.Throws<ConfigurationException>(() => Load(Path.Combine(_dir, "absent.json")));
        Assert.Equal("--config", e.Key);
    }

    [Fact]
    public void Load_ConfigFileNotJson_NamesConfigOnOneLine()
    {
        var e = Assert.Throws<ConfigurationException>(() => Load(WriteFile("{ \"Urls\": ")));
        Assert.Equal("--config", e.Key);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("Database:PoolSize", 1, 1000)]
    [InlineData("Database:CommandTimeoutSeconds", 1, 3600)]
    [InlineData("Http:MaxBodyBytes", 1024, 1L << 30)]
    [InlineData("WebSocket:HeartbeatTimeoutSeconds", 1, 86_400)]
    [InlineData("WebSocket:MaxMessageBytes", 125, 16 << 20)]
    [InlineData("WebSocket:MaxTopicsPerSocket", 1, 10_000)]
    [InlineData("WebSocket:WriteTimeoutSeconds", 1, 3600)]
    [InlineData("WebSocket:FileDescriptorReserve", 16, 100_000)]
    [InlineData("Broadcast:TickMilliseconds", 10, 60_000)]
    [InlineData("Broadcast:MaxConcurrentComputations", 1, 256)]
    [InlineData("Broadcast:VerifySeconds", 0, 86_400)]
    [InlineData("Notifications:BatchMilliseconds", 1, 1000)]
    [InlineData("Shutdown:DrainSeconds", 0, 3600)]
    public void Load_RangeBoundaries_OutsideRejectedNamingKey(string key, long min, long max)
    {
        foreach (var ok in new[] { min, min + 1, max - 1, max })
        {
            _ = LoadKey(key, ok.ToString(CultureInfo.InvariantCulture));
        }

        foreach (var bad in new[] { min - 1, max + 1 })
        {
            var e = Assert.Throws<ConfigurationException>(() => LoadKey(key, bad.ToString(CultureInfo.InvariantCulture)));
            Assert.Equal(key, e.Key);
            Assert.Contains(key, e.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Http:MaxBodyBytes", "lots")]
    [InlineData("Broadcast:TickMilliseconds", "1.5")]
    [InlineData("WebSocket:MaxTopicsPerSocket", "99999999999")]
    [InlineData("Notifications:DatabaseTrigger", "maybe")]
    public void Load_NotANumber_NamesKeyOnOneLine(string key, string value)
    {
        var e = Assert.Throws<ConfigurationException>(() => LoadKey(key, value));
        Assert.Equal(key, e.Key);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("https://0.0.0.0:4000")]
    [InlineData("http://example.com:4000")]
    [InlineData("http://127.0.0.1:4000/pulse")]
    [InlineData("not a url")]
    [InlineData("http://127.0.0.1:4000;ftp://127.0.0.1:21")]
    public void Load_BadUrls_NamesUrls(string urls)
    {
        var e = Assert.Throws<ConfigurationException>(() => Load(cli: new() { ["Urls"] = urls }));
        Assert.Equal("Urls", e.Key);
    }

    [Theory]
    [InlineData("http://*:4000")]
    [InlineData("http://+:4000")]
    [InlineData("http://localhost:0;http://[::1]:4001")]
    [InlineData("http://127.0.0.1:4000/")]
    public void Load_GoodUrls_Accepted(string urls)
    {
        Assert.Equal(urls, Load(cli: new() { ["Urls"] = urls }).Urls);
    }

    [Theory]
    [InlineData("https://example.com/")]
    [InlineData("example.com")]
    [InlineData("https://example.com/battle")]
    public void Load_BadAllowedOrigin_NamesAllowedOrigins(string origin)
    {
        var e = Assert.Throws<ConfigurationException>(() => Load(env: new() { ["PULSE_WebSocket__AllowedOrigins__0"] = "https://ok.example", ["PULSE_WebSocket__AllowedOrigins__1"] = origin }));
        Assert.Equal("WebSocket:AllowedOrigins", e.Key);
    }

    [Fact]
    public void Load_AllowedOriginsFromEnvironment_Bound()
    {
        var options = Load(env: new() { ["PULSE_WebSocket__AllowedOrigins__0"] = "https://a.example", ["PULSE_WebSocket__AllowedOrigins__1"] = "http://localhost:4000" });
        Assert.Equal(["https://a.example", "http://localhost:4000"], options.WebSocket.AllowedOrigins);
    }

    [Fact]
    public void Load_AllowedOriginsAsOneString_RejectedNotIgnored()
    {
        // A scalar where a list is expected would otherwise bind to nothing: "any origin allowed".
        var e = Assert.Throws<ConfigurationException>(() => Load(env: new() { ["PULSE_WebSocket__AllowedOrigins"] = "https://a.example" }));
        Assert.Equal("WebSocket:AllowedOrigins", e.Key);
        var file = Assert.Throws<ConfigurationException>(() => Load(WriteFile("""{ "WebSocket": { "AllowedOrigins": "https://a.example" } }""")));
        Assert.Equal("WebSocket:AllowedOrigins", file.Key);
    }

    private static PulseOptions LoadKey(string key, string value) =>
        Load(env: new() { [PulseConfiguration.EnvironmentPrefix + key.Replace(":", "__", StringComparison.Ordinal)] = value });

    private static PulseOptions Load(string? file = null, Dictionary<string, string?>? cli = null, Dictionary<string, string?>? env = null) =>
        PulseConfiguration.Load(file, cli ?? [], env ?? []);

    private string WriteFile(string json)
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    private static string Json(PulseOptions options) => JsonSerializer.Serialize(options);

    private static void Leaves(JsonElement element, string prefix, SortedSet<string> into)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            into.Add(prefix);
            return;
        }

        foreach (var property in element.EnumerateObject())
        {
            Leaves(property.Value, prefix.Length == 0 ? property.Name : prefix + ":" + property.Name, into);
        }
    }

    private static void Keys(Type type, string prefix, SortedSet<string> into)
    {
        foreach (var property in type.GetProperties())
        {
            var key = prefix.Length == 0 ? property.Name : prefix + ":" + property.Name;
            var t = property.PropertyType;
            if (t.IsClass && t != typeof(string) && !t.IsArray)
            {
                Keys(t, key, into);
            }
            else
            {
                into.Add(key);
            }
        }
    }
}
