using Npgsql;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.EndToEnd;

/// <summary>
/// A server that asks for an authentication method the slim client leaves out (GSSAPI): Npgsql throws
/// NotSupportedException, unwrapped, which ended the binary with a stack trace and exit 134 before.
/// </summary>
[Trait("Category", "binary")] public sealed class UnsupportedAuthenticationTests
{
    [Fact]
    public async Task Migrate_ServerAsksForGssapi_OneLineSayingSoExitOne()
    {
        await using var postgres = await DedicatedPostgres.StartNewAsync();
        await using (var admin = NpgsqlDataSource.Create(DatabaseUrl.ToConnectionString(postgres.Url, 1, 30)))
        {
            await using var role = admin.CreateCommand("CREATE ROLE kerberos_user LOGIN");
            await role.ExecuteNonQueryAsync();

            // First match wins: this role, over TCP, must use GSSAPI.
            var hba = Path.Combine(postgres.Folder, "data", "pg_hba.conf");
            await File.WriteAllTextAsync(hba, "host all kerberos_user 127.0.0.1/32 gss\n" + await File.ReadAllTextAsync(hba));
            await using var reload = admin.CreateCommand("SELECT pg_reload_conf()");
            await reload.ExecuteScalarAsync();
        }

        var (code, _, stderr) = await PulseProcess.RunAsync(new Dictionary<string, string> { ["DATABASE_URL"] = $"postgres://kerberos_user@127.0.0.1:{postgres.Port}/pulse" }, "migrate");
        var line = FailureLine.Single(code, stderr);
        Assert.Contains($"database \"pulse\" at 127.0.0.1:{postgres.Port}: the server asks for GSSAPI/SSPI (Kerberos) authentication, which Pulse does not support", line, StringComparison.Ordinal);
    }
}
