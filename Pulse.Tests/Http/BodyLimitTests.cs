using System.Net;
using Pulse.Tests.Infrastructure;
using static Pulse.Tests.Http.Api;

namespace Pulse.Tests.Http;

/// <summary><c>Http:MaxBodyBytes</c>: 413 one byte over, readable by the client, with or without Content-Length.</summary>
[Trait("Category", "socket")] public sealed class BodyLimitTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private const int Limit = 2048;

    [Theory]
    [InlineData(Limit - 1, HttpStatusCode.NoContent)]
    [InlineData(Limit, HttpStatusCode.NoContent)]
    [InlineData(Limit + 1, HttpStatusCode.RequestEntityTooLarge)]
    public async Task Post_BodyAroundLimit_AcceptedUpToLimit(int size, HttpStatusCode expected)
    {
        await using var server = await TestServer.StartAsync(database, o => o.Http.MaxBodyBytes = Limit);
        var id = await EventAsync();
        using var response = await server.Client.PostAsync(Path("/v1/events"), Json(Padded(id, size)));
        await AssertStatusAsync(response, expected);
    }

    [Theory]
    [InlineData(Limit - 1, HttpStatusCode.NoContent)]
    [InlineData(Limit, HttpStatusCode.NoContent)]
    [InlineData(Limit + 1, HttpStatusCode.RequestEntityTooLarge)]
    public async Task Post_ChunkedBodyAroundLimit_AcceptedUpToLimit(int size, HttpStatusCode expected)
    {
        await using var server = await TestServer.StartAsync(database, o => o.Http.MaxBodyBytes = Limit);
        var id = await EventAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, Path("/v1/events")) { Content = new ChunkedContent(Encoding.UTF8.GetBytes(Padded(id, size))) };
        using var response = await server.Client.SendAsync(request);
        await AssertStatusAsync(response, expected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Post_BodyFarOverLimit_ClientReads413(bool chunked)
    {
        await using var server = await TestServer.StartAsync(database, o => o.Http.MaxBodyBytes = Limit);
        var id = await EventAsync();
        var bytes = Encoding.UTF8.GetBytes(Padded(id, 512 * 1024));
        using var request = new HttpRequestMessage(HttpMethod.Post, Path("/v1/events"))
        {
            Content = chunked ? new ChunkedContent(bytes) : new ByteArrayContent(bytes),
        };
        using var response = await server.Client.SendAsync(request);
        await ErrorAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Post_DefaultLimit_OneMebibytePlusOneRejected()
    {
        await using var server = await TestServer.StartAsync(database);
        var id = await EventAsync();
        using var ok = await server.Client.PostAsync(Path("/v1/events"), Json(Padded(id, 1_048_576)));
        Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
        using var over = await server.Client.PostAsync(Path("/v1/events"), Json(Padded(id, 1_048_577)));
        await ErrorAsync(over, HttpStatusCode.RequestEntityTooLarge);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Post_ManyMebibytesOverDefaultLimit_ClientReads413(bool chunked)
    {
        await using var server = await TestServer.StartAsync(database);
        var id = await EventAsync();
        var bytes = Encoding.UTF8.GetBytes(Padded(id, 8 << 20));
        using var request = new HttpRequestMessage(HttpMethod.Post, Path("/v1/events"))
        {
            Content = chunked ? new ChunkedContent(bytes) : new ByteArrayContent(bytes),
        };
        using var response = await server.Client.SendAsync(request);
        await ErrorAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Post_LimitAboveKestrelDefault_ConfiguredLimitApplies()
    {
        // Kestrel refuses bodies over 30,000,000 bytes by default; Http:MaxBodyBytes may be larger.
        const int limit = 32 << 20;
        await using var server = await TestServer.StartAsync(database, o => o.Http.MaxBodyBytes = limit);
        var id = await EventAsync();
        using var ok = await server.Client.PostAsync(Path("/v1/events"), Json(Padded(id, limit)));
        Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
    }

    private async Task<Guid> EventAsync() => (await database.CreateEventAsync("Limits", DateTime.UtcNow, DateTime.UtcNow.AddHours(1))).EventId;

    private static async Task AssertStatusAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        if (expected == HttpStatusCode.RequestEntityTooLarge)
        {
            await ErrorAsync(response, expected);
        }
        else
        {
            Assert.Equal(expected, response.StatusCode);
        }
    }

    /// <summary>A valid body padded with spaces to exactly <paramref name="size"/> UTF-8 bytes.</summary>
    private static string Padded(Guid id, int size)
    {
        var body = PostBody(id, "x");
        return body[..^1] + new string(' ', size - body.Length) + "}";
    }

    /// <summary>Sent with <c>Transfer-Encoding: chunked</c>: the length is not computed up front.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (int offset = 0; offset < bytes.Length; offset += 1000)
            {
                await stream.WriteAsync(bytes.AsMemory(offset, Math.Min(1000, bytes.Length - offset)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
