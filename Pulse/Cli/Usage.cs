using System.Diagnostics.CodeAnalysis;
using CommandLine;
using CommandLine.Text;

namespace Pulse.Cli;

/// <summary>The usage text CommandLineParser builds from the verb classes.</summary>
internal static class Usage
{
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The verb types are kept by CliParser's DynamicDependency attributes.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "No generic instantiation over unknown types.")]
    public static string Text(ParserResult<object> result)
    {
        var help = HelpText.AutoBuild(result, h =>
        {
            h.Heading = $"pulse {Commands.Version} — live hashtag battle counts over WebSocket (Phoenix Channels)";
            h.Copyright = "usage: pulse [serve|migrate|api-key create --name NAME|demo] [options]";
            h.AdditionalNewLineAfterOption = false;
            return HelpText.DefaultParsingErrorsHandler(result, h);
        }, e => e, verbsIndex: true);
        return help.ToString();
    }
}
