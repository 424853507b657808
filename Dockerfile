# syntax=docker/dockerfile:1
# Build stage: the .NET SDK, clang-14 + zlib for Native AOT, Node.js for the dashboard bundle.
FROM mcr.microsoft.com/dotnet/sdk:10.0-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang-14 zlib1g-dev nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN ./publish.sh

# Final stage: runtime dependencies only (no .NET runtime: the binary is self-contained).
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home pulse
COPY --from=build /src/dist/pulse /usr/local/bin/pulse
USER pulse
EXPOSE 4000
ENV PULSE_Urls=http://0.0.0.0:4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fsS http://127.0.0.1:4000/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/pulse"]
CMD ["serve"]
