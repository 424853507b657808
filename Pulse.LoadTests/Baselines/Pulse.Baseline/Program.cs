using System.Text.Json;
using Npgsql;
using Pulse.Baseline;
using Pulse.Testing.Database;

// The baseline: the same contract subset as Pulse (Phoenix V2 join/heartbeat/broadcast,
// POST /v1/events, GET /v1/events/{id}) written the way most ASP.NET Core code is written:
// minimal APIs, System.Net.WebSockets, a query per request, SendAsync in a loop.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
string databaseUrl = builder.Configuration["database-url"] ?? Environment.GetEnvironmentVariable("DATABASE_URL")
    ?? throw new InvalidOperationException("--database-url or DATABASE_URL is required");
string apiKey = builder.Configuration["api-key"] ?? Environment.GetEnvironmentVariable("BASELINE_API_KEY")
    ?? throw new InvalidOperationException("--api-key or BASELINE_API_KEY is required");

builder.Services.AddSingleton(NpgsqlDataSource.Create(ConnectionStrings.ToKeywords(databaseUrl)));
builder.Services.AddSingleton<ViewModels>();
builder.Services.AddSingleton<Hub>();
var app = builder.Build();
app.UseWebSockets();

app.Map("/socket/websocket", (HttpContext context, Hub hub, ViewModels models) => PhoenixSocket.HandleAsync(context, hub, models));

app.MapPost("/v1/events", async (HttpContext context, Hub hub, ViewModels models) =>
{
    if (!Authorized(context))
    {
        return Results.Json(new { error = "unauthorized" }, statusCode: 401);
    }

    Notification? notification;
    try
    {
        notification = await context.Request.ReadFromJsonAsync<Notification>();
    }
    catch (JsonException)
    {
        return Results.Json(new { error = "malformed" }, statusCode: 400);
    }

    if (notification?.Topic is not { } topic || !topic.StartsWith("event:", StringComparison.Ordinal)
        || !Guid.TryParse(topic["event:".Length..], out Guid id) || string.IsNullOrEmpty(notification.Event)
        || notification.Payload?.EventId is not { } payloadId || !Guid.TryParse(payloadId, out Guid payloadGuid) || payloadGuid != id)
    {
        return Results.Json(new { error = "malformed" }, statusCode: 400);
    }

    ViewModel? model = await models.ComputeAsync(id, context.RequestAborted);
    if (model is null)
    {
        return Results.Json(new { error = "not found" }, statusCode: 404);
    }

    await hub.BroadcastAsync("event:" + id.ToString("D"), notification.Event, model);
    return Results.NoContent();
});

app.MapGet("/v1/events/{id}", async (string id, HttpContext context, ViewModels models) =>
{
    if (!Authorized(context))
    {
        return Results.Json(new { error = "unauthorized" }, statusCode: 401);
    }

    if (!Guid.TryParse(id, out Guid eventId))
    {
        return Results.Json(new { error = "bad id" }, statusCode: 400);
    }

    ViewModel? model = await models.ComputeAsync(eventId, context.RequestAborted);
    return model is null ? Results.Json(new { error = "not found" }, statusCode: 404) : Results.Json(model, ViewModels.Json);
});

app.MapGet("/healthz", () => Results.Ok());
app.Run();

bool Authorized(HttpContext context)
{
    string? header = context.Request.Headers.Authorization;
    string? key = header is not null && header.StartsWith("Bearer ", StringComparison.Ordinal)
        ? header["Bearer ".Length..]
        : context.Request.Query["api_key"];
    return key == apiKey;
}
