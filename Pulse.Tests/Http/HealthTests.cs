using System.Net;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Http;

[Trait("Category", "socket")] public sealed class HealthTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Healthz_ServerRunning_Returns200Json()
    {
        await using var server = await TestServer.StartAsync(database);
        using var response = await server.Client.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
    }
}
