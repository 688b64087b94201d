#!/usr/bin/env pwsh
# Starts a local Actors cluster and stops it cleanly on Ctrl-C (or after -Duration), like run-cluster.sh.
#   pwsh ./run-cluster.ps1 [-Duration SECONDS] [-WebPort PORT] [-SeedPort PORT] [-TrackerPort PORT]
#                          [-RendezvousPort PORT] [-RelayPort PORT] [-PeerPort PORT] [-LabPort PORT]
# (pwsh comes from the repo's dotnet tool manifest: `dotnet tool restore; dotnet pwsh ./run-cluster.ps1`)
# Nodes: a seed node, a web node serving a demo folder, two tracker nodes sharing every swarm,
# a rendezvous and a relay for calls, a BitTorrent peer seeding the demo .torrent, and the Lab.
# Logs: .cluster/logs/<node>.log    Node manifests (for the Lab): .cluster/nodes/<node>.json
param(
  [int]$Duration = 0,
  [int]$WebPort = 8080,
  [int]$SeedPort = 4053,
  [int]$TrackerPort = 6969,
  [int]$RendezvousPort = 7000,
  [int]$RelayPort = 7100,
  [int]$PeerPort = 6881,
  [int]$LabPort = 7070
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

$logs = Join-Path '.cluster' 'logs'
$demo = Join-Path '.cluster' 'demo'
$manifests = Join-Path '.cluster' 'nodes'
New-Item -ItemType Directory -Force -Path $logs, (Join-Path $demo 'files'), $manifests | Out-Null
Remove-Item -Force -ErrorAction SilentlyContinue (Join-Path $manifests '*.json'), (Join-Path '.cluster' 'lab.token'), (Join-Path '.cluster' 'lab.url')

# Published ReadyToRun (precompiled; see src/Actors.Host/Actors.Host.csproj), as run-cluster.sh does.
Write-Host 'Building actors (Release, ReadyToRun)...'
& dotnet publish src/Actors.Host -c Release --use-current-runtime -o (Join-Path 'src' 'Actors.Host' 'bin' 'ready-to-run') -v q --nologo *> (Join-Path $logs 'build.log')
if ($LASTEXITCODE -ne 0) { Get-Content (Join-Path $logs 'build.log'); exit 1 }
$actorsDll = Join-Path 'src' 'Actors.Host' 'bin' 'ready-to-run' 'actors.dll'

Set-Content -Path (Join-Path $demo 'index.html') -Value @'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Actors demo</title></head>
<body><h1>Served by Actors</h1>
<p>An HTTP/1.1 server on Akka.IO. Try <a href="files/">files/</a>.</p></body></html>
'@
Set-Content -Path (Join-Path $demo 'files' 'hello.txt') -Value 'hello from the actors web role'
$big = Join-Path $demo 'files' '16MiB.bin'
if (-not (Test-Path $big)) {
  $bytes = [byte[]]::new(16MB); [System.Random]::new(1).NextBytes($bytes); [IO.File]::WriteAllBytes((Resolve-Path $demo).Path + '/files/16MiB.bin', $bytes)
}

# The Lab's link proxies (toxics apply to them), a few ports up from their targets; the demo
# .torrent announces through the tracker link, the relay tells callers to dial the relay link.
$webLink = $WebPort + 10; $trackerLink = $TrackerPort + 10; $rendezvousLink = $RendezvousPort + 1; $relayLink = $RelayPort + 1
& dotnet $actorsDll torrent create (Join-Path $demo 'files' '16MiB.bin') --tracker "http://127.0.0.1:$trackerLink/announce" `
  -o (Join-Path $demo 'files' '16MiB.bin.torrent') | Out-Null
# Who may register at the rendezvous (name:secret); demo identities only.
$users = Join-Path '.cluster' 'users.txt'
Set-Content -Path $users -Value "alice:alice-secret`nbob:bob-secret`ncarol:carol-secret"

$nodes = [System.Collections.Generic.List[object]]::new()
function Start-Node([string]$Name, [string]$Address, [string[]]$Arguments) {
  $log = Join-Path $logs "$Name.log"
  $p = Start-Process -FilePath 'dotnet' -ArgumentList (@($actorsDll) + $Arguments) -PassThru `
    -RedirectStandardOutput "$log.out" -RedirectStandardError $log
  $nodes.Add([pscustomobject]@{ Name = $Name; Process = $p })
  # The manifest tells the Lab how this node was started, so it can kill, pause and restart it.
  # started: the process's start time (/proc/PID/stat field 22), so the Lab never signals a reused pid.
  $started = 0
  try { $started = [long]((Get-Content -Raw "/proc/$($p.Id)/stat") -replace '^.*\) ', '').Split(' ')[19] } catch { }
  [ordered]@{ name = $Name; pid = $p.Id; started = $started; command = @('dotnet', $actorsDll) + $Arguments; cwd = (Get-Location).Path; log = $log; address = $Address } |
    ConvertTo-Json -Compress | Set-Content -Path (Join-Path $manifests "$Name.json")
}

# The node's current pid: the Lab rewrites the manifest when it restarts a node.
function Get-CurrentPid([string]$Name) {
  try { (Get-Content -Raw (Join-Path $manifests "$Name.json") | ConvertFrom-Json).pid } catch { $null }
}

function Wait-Port([int]$Port, [string]$Name) {
  for ($i = 0; $i -lt 300; $i++) {
    try { $c = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $Port); $c.Dispose(); return } catch { Start-Sleep -Milliseconds 100 }
  }
  throw "$Name did not open port $Port within 30 s; see $logs/$Name.log"
}

function Stop-All {
  Write-Host ''
  Write-Host "Stopping $($nodes.Count) nodes (they leave the cluster gracefully)..."
  foreach ($n in $nodes) {
    $current = Get-CurrentPid $n.Name
    if ($current -and $current -ne $n.Process.Id) { & kill -CONT $current 2>$null; & kill -TERM $current 2>$null }
    elseif (-not $n.Process.HasExited) { & kill -CONT $n.Process.Id 2>$null; & kill -TERM $n.Process.Id 2>$null }
  }
  foreach ($n in $nodes) {
    $current = Get-CurrentPid $n.Name
    if ($current -and $current -ne $n.Process.Id) {
      # Restarted by the Lab: not our child, so wait on its pid.
      for ($i = 0; $i -lt 200 -and (Get-Process -Id $current -ErrorAction SilentlyContinue); $i++) { Start-Sleep -Milliseconds 100 }
      if (Get-Process -Id $current -ErrorAction SilentlyContinue) { & kill -KILL $current 2>$null }
      Write-Host "  $($n.Name) (restarted by the Lab as pid $current) stopped"
      continue
    }
    if (-not $n.Process.WaitForExit(20000)) { Write-Host "  $($n.Name) did not stop in 20 s: killing it"; $n.Process.Kill($true) }
    $n.Process.WaitForExit()
    Write-Host "  $($n.Name) exited with $($n.Process.ExitCode)"
  }
}

try {
  Start-Node 'seed' "127.0.0.1:$SeedPort" @('seed', '--name', 'seed', '--cluster-port', "$SeedPort")
  Wait-Port $SeedPort 'seed'
  Start-Node 'web' "127.0.0.1:$($SeedPort + 1)" @('web', '--name', 'web', '--root', $demo, '--host', '127.0.0.1', '--port', "$WebPort",
    '--cluster-port', "$($SeedPort + 1)", '--seed', "127.0.0.1:$SeedPort")
  Wait-Port $WebPort 'web'
  foreach ($i in 1, 2) {
    Start-Node "tracker$i" "127.0.0.1:$($SeedPort + 1 + $i)" @('tracker', '--name', "tracker$i", '--host', '127.0.0.1', '--port', "$($TrackerPort + $i - 1)",
      '--cluster-port', "$($SeedPort + 1 + $i)", '--seed', "127.0.0.1:$SeedPort")
  }
  Wait-Port $TrackerPort 'tracker1'
  Wait-Port ($TrackerPort + 1) 'tracker2'
  Start-Node 'rendezvous' "127.0.0.1:$($SeedPort + 4)" @('rendezvous', '--name', 'rendezvous', '--host', '127.0.0.1', '--port', "$RendezvousPort", '--users', $users,
    '--cluster-port', "$($SeedPort + 4)", '--seed', "127.0.0.1:$SeedPort")
  Start-Node 'relay' "127.0.0.1:$($SeedPort + 5)" @('relay', '--name', 'relay', '--host', '127.0.0.1', '--port', "$RelayPort", '--public-port', "$relayLink",
    '--cluster-port', "$($SeedPort + 5)", '--seed', "127.0.0.1:$SeedPort")
  Wait-Port $RendezvousPort 'rendezvous'
  Wait-Port $RelayPort 'relay'
  $tokenFile = Join-Path '.cluster' 'lab.token'
  # The Lab (and its links) starts before the peer, whose announces cross the tracker link.
  $labConf = Join-Path '.cluster' 'lab.conf'
  Set-Content -Path $labConf -Value @"
actors.lab.links = [
  { name = "web", listen = "127.0.0.1:$webLink", target = "127.0.0.1:$WebPort" }
  { name = "tracker", listen = "127.0.0.1:$trackerLink", target = "127.0.0.1:$TrackerPort" }
  { name = "rendezvous", listen = "127.0.0.1:$rendezvousLink", target = "127.0.0.1:$RendezvousPort" }
  { name = "relay", listen = "127.0.0.1:$relayLink", target = "127.0.0.1:$RelayPort" }
]
"@
  Start-Node 'lab' "127.0.0.1:$($SeedPort + 6)" @('lab', '--name', 'lab', '--port', "$LabPort", '--manifests', $manifests, '--config', $labConf,
    '--token-file', $tokenFile, '--url-file', (Join-Path '.cluster' 'lab.url'),
    '--cluster-port', "$($SeedPort + 6)", '--seed', "127.0.0.1:$SeedPort")
  Wait-Port $LabPort 'lab'
  for ($i = 0; $i -lt 100 -and -not (Test-Path $tokenFile); $i++) { Start-Sleep -Milliseconds 100 }
  $labToken = if (Test-Path $tokenFile) { (Get-Content -Raw $tokenFile).Trim() } else { '?' }
  Start-Node 'peer' '' @('peer', 'seed', (Join-Path $demo 'files' '16MiB.bin.torrent'), '--data', (Join-Path $demo 'files'),
    '--host', '127.0.0.1', '--port', "$PeerPort")
  Wait-Port $PeerPort 'peer'

  Write-Host ''
  '{0,-10} {1,-36} {2,-20} {3}' -f 'NODE', 'LISTENS', 'CLUSTER', 'LOG' | Write-Host
  '{0,-10} {1,-36} {2,-20} {3}' -f 'seed', '-', "127.0.0.1:$SeedPort", "$logs/seed.log" | Write-Host
  '{0,-10} {1,-36} {2,-20} {3}' -f 'web', "http://127.0.0.1:$WebPort/", "127.0.0.1:$($SeedPort + 1)", "$logs/web.log" | Write-Host
  foreach ($i in 1, 2) {
    '{0,-10} {1,-36} {2,-20} {3}' -f "tracker$i", "http://127.0.0.1:$($TrackerPort + $i - 1)/announce", "127.0.0.1:$($SeedPort + 1 + $i)", "$logs/tracker$i.log" | Write-Host
  }
  '{0,-10} {1,-36} {2,-20} {3}' -f 'rendezvous', "127.0.0.1:$RendezvousPort", "127.0.0.1:$($SeedPort + 4)", "$logs/rendezvous.log" | Write-Host
  '{0,-10} {1,-36} {2,-20} {3}' -f 'relay', "127.0.0.1:$RelayPort", "127.0.0.1:$($SeedPort + 5)", "$logs/relay.log" | Write-Host
  '{0,-10} {1,-36} {2,-20} {3}' -f 'peer', "127.0.0.1:$PeerPort (seeding)", '-', "$logs/peer.log" | Write-Host
  '{0,-10} {1,-36} {2,-20} {3}' -f 'lab', "http://127.0.0.1:$LabPort/", "127.0.0.1:$($SeedPort + 6)", "$logs/lab.log" | Write-Host
  Write-Host ''
  Write-Host "Lab:   http://127.0.0.1:$LabPort/#token=$labToken   (dashboard; token in $tokenFile)"
  Write-Host "       dotnet $actorsDll lab status    dotnet $actorsDll lab kill tracker2    dotnet $actorsDll lab restart tracker2"
  Write-Host "Links: web http://127.0.0.1:$webLink/ -> :$WebPort    tracker :$trackerLink -> :$TrackerPort (the demo .torrent announces there)"
  Write-Host "       rendezvous 127.0.0.1:$rendezvousLink -> :$RendezvousPort    relay :$relayLink -> :$RelayPort (relayed calls)   (the Lab's proxies)"
  Write-Host "       dotnet $actorsDll lab link toxic relay latency --direction upstream --set latency=300    dotnet $actorsDll lab link clear relay"
  Write-Host ''
  if ($Duration -gt 0) { Write-Host "Running for $Duration s..."; Start-Sleep -Seconds $Duration }
  else { Write-Host 'Press Ctrl-C to stop the cluster.'; while ($true) { Start-Sleep -Seconds 1 } }
}
finally {
  Stop-All
}
