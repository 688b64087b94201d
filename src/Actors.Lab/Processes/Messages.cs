namespace Actors.Lab.Processes;

/// <summary>Send a signal to the node's process: KILL (kill -9), STOP (pause), CONT (resume), TERM (graceful exit).</summary>
public sealed record KillNode(string Name, string Signal = "KILL");

/// <summary>Stop the node's process (TERM, then KILL after the grace time) and start it again with its command line.</summary>
public sealed record RestartNode(string Name);

/// <summary>Ask the node to leave the cluster gracefully (Akka Cluster Leave; TERM for processes that are not members).</summary>
public sealed record LeaveNode(string Name);

/// <summary>The fault was applied; <paramref name="Text"/> says what was done.</summary>
public sealed record FaultDone(string Text);

/// <summary>Nothing was changed: <paramref name="Status"/> is the HTTP status the API answers (404 unknown node, 400 bad signal, 409 busy).</summary>
public sealed record FaultRefused(int Status, string Reason);

/// <summary>
/// Cross-node: the lab asks a machine agent (<see cref="MachineAgent"/>) to apply a process fault to
/// a node that agent's machine started. <paramref name="Action"/>: kill, restart or leave.
/// </summary>
public sealed record MachineFault(string Action, string Name, string Signal) : Agent.ILabMessage;

/// <summary>Cross-node: a machine agent's answer. <paramref name="Status"/> 200 when done, else the refusal's HTTP status (404: not one of mine).</summary>
public sealed record MachineFaultAnswer(int Status, string Text) : Agent.ILabMessage;
