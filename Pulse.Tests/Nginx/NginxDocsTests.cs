using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Nginx;

/// <summary>The nginx configuration the docs show is the one the tests run: docs/nginx.conf, quoted verbatim.</summary>
[Trait("Category", "unit")] public sealed class NginxDocsTests
{
    [Theory]
    [InlineData("README.md")]
    [InlineData("docs/operations.md")]
    public void NginxConfig_Docs_QuoteDocsNginxConfVerbatim(string document)
    {
        var config = File.ReadAllText(Path.Combine(PostgresServer.RepositoryRoot, "docs", "nginx.conf"));
        var text = File.ReadAllText(Path.Combine(PostgresServer.RepositoryRoot, document));

        Assert.Contains("```nginx\n" + config + "```\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void NginxConfig_SocketsAndPlainRequests_GoToTheirOwnUpstreams()
    {
        // What the docs promise and scripts/nginx.sh relies on: plain HTTP through a keepalive upstream with
        // Connection "" (issue 10's setup), sockets through one without keepalive.
        var config = File.ReadAllText(Path.Combine(PostgresServer.RepositoryRoot, "docs", "nginx.conf"));
        var sockets = Block(config, "upstream pulse_sockets {");
        var plain = Block(config, "upstream pulse {");

        Assert.Contains("keepalive 32;", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("keepalive", sockets, StringComparison.Ordinal);
        Assert.Contains("proxy_pass http://pulse_sockets;", Block(config, "location /socket/ {"), StringComparison.Ordinal);
        Assert.Contains("proxy_set_header Connection \"\";", Block(config, "location / {"), StringComparison.Ordinal);
    }

    private static string Block(string config, string start)
    {
        int at = config.IndexOf(start, StringComparison.Ordinal);
        Assert.True(at >= 0, $"docs/nginx.conf has no '{start}'");
        return config[at..config.IndexOf('}', at)];
    }
}
