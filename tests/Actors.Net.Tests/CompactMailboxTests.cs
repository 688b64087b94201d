using Actors.Net.Mailboxes;
using Akka.Actor;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;
using Xunit;

namespace Actors.Net.Tests;

/// <summary>
/// The compact mailbox keeps the default mailbox's contract: nothing lost, FIFO per sender, with
/// many threads sending at once; and a whole actor system can run on it (a process of many peers does).
/// </summary>
public sealed class CompactMailboxTests : Akka.TestKit.Xunit2.TestKit
{
    public CompactMailboxTests() : base("akka.loglevel = WARNING\n" + CompactMailbox.ForWholeSystem) { }

    [Fact]
    public void The_queue_is_fifo_counts_and_gives_its_array_back_after_a_burst()
    {
        var queue = new CompactQueue();
        Assert.False(queue.HasMessages);
        for (var i = 0; i < 1000; i++) queue.Enqueue(ActorRefs.Nobody, new Envelope(i, ActorRefs.NoSender));
        Assert.True(queue.HasMessages);
        Assert.Equal(1000, queue.Count);
        for (var i = 0; i < 1000; i++)
        {
            Assert.True(queue.TryDequeue(out var envelope));
            Assert.Equal(i, envelope.Message);
        }
        Assert.False(queue.TryDequeue(out _));
        Assert.False(queue.HasMessages);
        // Drained after the burst: its array is given back, and it works as before.
        Assert.Equal(0, queue.Capacity);
        queue.Enqueue(ActorRefs.Nobody, new Envelope("again", ActorRefs.NoSender));
        Assert.True(queue.TryDequeue(out var last));
        Assert.Equal("again", last.Message);
    }

    [Fact]
    public async Task Four_threads_sending_at_once_lose_nothing_and_each_sender_is_received_in_order()
    {
        const int senders = 4, perSender = 20_000;
        var queue = new CompactQueue();
        var received = new List<(int Sender, int Seq)>(senders * perSender);
        using var done = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var producers = Enumerable.Range(0, senders).Select(s => Task.Run(() =>
        {
            for (var i = 0; i < perSender; i++) queue.Enqueue(ActorRefs.Nobody, new Envelope((s, i), ActorRefs.NoSender));
        })).ToArray();
        // One consumer, as the actor's dispatcher is: drains while the producers run.
        while (received.Count < senders * perSender && !done.IsCancellationRequested)
        {
            if (queue.TryDequeue(out var envelope)) received.Add(((int, int))envelope.Message);
            else Thread.Yield();
        }
        await Task.WhenAll(producers);
        Assert.Equal(senders * perSender, received.Count);
        Assert.False(queue.HasMessages);
        foreach (var bySender in received.GroupBy(r => r.Sender))
            Assert.Equal(Enumerable.Range(0, perSender), bySender.Select(r => r.Seq));
    }

    [Fact]
    public void An_actor_system_runs_on_it_and_cleanup_sends_what_is_left_to_dead_letters()
    {
        var echo = Sys.ActorOf(Props.Create(() => new Echo()), "echo");
        // Actors that ask for an unbounded queue by type (as Akka.IO's connections do) get it too.
        var asking = Sys.ActorOf(Props.Create(() => new AsksForUnbounded()), "asking");
        for (var i = 0; i < 100; i++) echo.Tell(i, TestActor);
        for (var i = 0; i < 100; i++) ExpectMsg(i);

        var queue = new CompactQueue();
        var deadLetters = new CompactQueue();
        queue.Enqueue(ActorRefs.Nobody, new Envelope("left", ActorRefs.NoSender));
        queue.CleanUp(ActorRefs.Nobody, deadLetters);
        Assert.False(queue.HasMessages);
        Assert.True(deadLetters.TryDequeue(out var moved));
        Assert.Equal("left", moved.Message);
        Assert.IsType<CompactQueue>(MailboxOf(echo));
        Assert.IsType<CompactQueue>(MailboxOf(asking));
    }

    /// <summary>The message queue an actor of this system actually got.</summary>
    private static IMessageQueue MailboxOf(IActorRef actor) =>
        ((ActorRefWithCell)actor).Underlying is ActorCell { Mailbox: { } mailbox } ? mailbox.MessageQueue : throw new InvalidOperationException("not a local actor");

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(message => Sender.Tell(message));
    }

    private sealed class AsksForUnbounded : ReceiveActor, IRequiresMessageQueue<IUnboundedMessageQueueSemantics>
    {
        public AsksForUnbounded() => ReceiveAny(_ => { });
    }
}
