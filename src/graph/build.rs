//! The reference graph over a directory: who owns what, what sits in or
//! uses what, which records refer to whom. Built once for a batch of
//! questions; nodes carry indexes into the [`Directory`], not copies.

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::directory::Directory;

/// A node: an index into the directory's entity lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// `directory.users()[i]`.
    User(u32),
    /// `directory.accounts()[i]`.
    Account(u32),
    /// `directory.assets()[i]`.
    Asset(u32),
    /// `directory.references()[i]`: one table's rows referring to one account.
    Table(u32),
}

/// An edge, pointing from the holder to what it holds or needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// user → account: the identity behind the account.
    Identity,
    /// account → asset.
    Owns,
    /// asset → space it sits in.
    In,
    /// asset → asset it depends on.
    Uses,
    /// table → account. The row count stays with the reference (the table
    /// node's directory index): a payload would double every edge's size.
    Refers,
}

/// The graph. Nodes are laid out in directory order (users, then accounts,
/// then assets, then reference tables), so a directory index is a node
/// index plus an offset: no map from ids to nodes is kept.
#[derive(Debug, Clone, Default)]
pub struct ReferenceGraph {
    graph: DiGraph<Node, Edge, u32>,
    accounts_at: usize,
    assets_at: usize,
    accounts: usize,
    assets: usize,
}

impl ReferenceGraph {
    /// Builds the graph of `directory`.
    pub fn build(directory: &Directory) -> Self {
        Self::build_on(directory, std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// [`ReferenceGraph::build`] with edges resolved on `threads` threads.
    fn build_on(directory: &Directory, threads: usize) -> Self {
        let users = directory.users();
        let accounts = directory.accounts();
        let assets = directory.assets();
        let references = directory.references();
        let nodes = users.len() + accounts.len() + assets.len() + references.len();
        let edges = accounts.len() * 2 + assets.len() * 2 + references.len();
        let mut graph = DiGraph::with_capacity(nodes, edges);
        let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let node = |i: usize| NodeIndex::new(i);

        let accounts_at = users.len();
        let assets_at = accounts_at + accounts.len();
        for i in 0..users.len() {
            graph.add_node(Node::User(index(i)));
        }
        for i in 0..accounts.len() {
            graph.add_node(Node::Account(index(i)));
        }
        for i in 0..assets.len() {
            graph.add_node(Node::Asset(index(i)));
        }
        // Finding an edge's ends is a lookup by id, most of the build: every
        // core resolves, then the edges are added in directory order, so the
        // graph is the same whatever the number of cores.
        let mut add = |(from, to, edge): (usize, usize, Edge)| {
            graph.add_edge(node(from), node(to), edge);
        };
        resolve_in_order(
            threads,
            accounts,
            |i, _, out| {
                if let Some(user) = directory.user_index_of_account(i) {
                    out.push((user, accounts_at + i, Edge::Identity));
                }
            },
            &mut add,
        );
        resolve_in_order(
            threads,
            assets,
            |i, asset, out| {
                let this = assets_at + i;
                if let Some(owner) = directory.owner_index(i) {
                    out.push((accounts_at + owner, this, Edge::Owns));
                }
                if let Some(space) = directory.space_index(i) {
                    out.push((this, assets_at + space, Edge::In));
                }
                for used in asset.uses.iter().filter_map(|u| directory.asset_index(u)) {
                    out.push((this, assets_at + used, Edge::Uses));
                }
            },
            &mut add,
        );
        // A table node only for a reference whose account exists.
        resolve_in_order(
            threads,
            references,
            |i, _, out| {
                if let Some(account) = directory.reference_account_index(i) {
                    out.push((i, accounts_at + account));
                }
            },
            &mut |(i, account)| {
                let table = graph.add_node(Node::Table(index(i)));
                graph.add_edge(table, node(account), Edge::Refers);
            },
        );
        ReferenceGraph { graph, accounts_at, assets_at, accounts: accounts.len(), assets: assets.len() }
    }

    /// The node of `directory.accounts()[index]`.
    pub fn account_node(&self, index: usize) -> Option<NodeIndex> {
        (index < self.accounts).then(|| NodeIndex::new(self.accounts_at + index))
    }

    /// The node of `directory.assets()[index]`.
    pub fn asset_node(&self, index: usize) -> Option<NodeIndex> {
        (index < self.assets).then(|| NodeIndex::new(self.assets_at + index))
    }

    /// What a node is.
    pub fn node(&self, node: NodeIndex) -> Option<Node> {
        self.graph.node_weight(node).copied()
    }

    /// The number of nodes.
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// The number of edges.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Edges leaving `node`, with their targets.
    pub fn outgoing(&self, node: NodeIndex) -> impl Iterator<Item = (Edge, NodeIndex)> + '_ {
        self.graph.edges_directed(node, Direction::Outgoing).map(|e| (*e.weight(), e.target()))
    }

    /// Edges arriving at `node`, with their sources.
    pub fn incoming(&self, node: NodeIndex) -> impl Iterator<Item = (Edge, NodeIndex)> + '_ {
        self.graph.edges_directed(node, Direction::Incoming).map(|e| (*e.weight(), e.source()))
    }
}

/// Items resolved per round: a round is split among the cores, and its
/// results wait in memory until they are taken, so two rounds (the one
/// resolved, the one taken) bound that memory.
const ROUND: usize = 1 << 18;

/// Calls `resolve` on every item, on every core, and hands what it pushed
/// to `take` in the order of the items. Items go in rounds: while the
/// workers resolve one round, this thread takes the results of the round
/// before (adding edges to the graph is serial, and would otherwise leave
/// the other cores idle).
fn resolve_in_order<T: Sync, R: Send>(
    threads: usize,
    items: &[T],
    resolve: impl Fn(usize, &T, &mut Vec<R>) + Sync,
    take: &mut impl FnMut(R),
) {
    let part_of = |start: usize, part: &[T]| {
        let mut out = Vec::with_capacity(part.len());
        for (offset, item) in part.iter().enumerate() {
            resolve(start + offset, item, &mut out);
        }
        out
    };
    // Small directories are resolved here: a thread costs more than them.
    if threads <= 1 || items.len() < 4096 {
        part_of(0, items).into_iter().for_each(take);
        return;
    }
    let mut taken: Option<Vec<Vec<R>>> = None;
    for (round, chunk) in items.chunks(ROUND).enumerate() {
        let start = round * ROUND;
        let size = chunk.len().div_ceil(threads);
        let parts: Vec<Vec<R>> = std::thread::scope(|scope| {
            let workers: Vec<_> = chunk
                .chunks(size)
                .enumerate()
                .map(|(n, part)| {
                    let part_of = &part_of;
                    scope.spawn(move || part_of(start + n * size, part))
                })
                .collect();
            if let Some(before) = taken.take() {
                before.into_iter().flatten().for_each(&mut *take);
            }
            chunk
                .chunks(size)
                .enumerate()
                .zip(workers)
                // A worker that panicked (resolving cannot: it only looks
                // up) is resolved again here.
                .map(|((n, part), worker)| worker.join().unwrap_or_else(|_| part_of(start + n * size, part)))
                .collect()
        });
        taken = Some(parts);
    }
    if let Some(last) = taken {
        last.into_iter().flatten().for_each(take);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::generate::{GenerateOptions, generate};

    fn edges(graph: &ReferenceGraph) -> Vec<(usize, usize, Edge)> {
        let g = &graph.graph;
        g.edge_indices()
            .filter_map(|e| g.edge_endpoints(e).zip(g.edge_weight(e)))
            .map(|((a, b), w)| (a.index(), b.index(), *w))
            .collect()
    }

    /// Resolving on several threads gives the graph one thread gives: the
    /// same nodes, the same edges in the same order (ROUND and the
    /// threads' parts do not divide the items evenly here).
    #[test]
    fn the_graph_does_not_depend_on_the_number_of_threads() {
        let directory = generate(GenerateOptions { accounts: 3_000, seed: 7 });
        assert!(directory.assets().len() > 4096, "large enough to be resolved in parts");
        let one = ReferenceGraph::build_on(&directory, 1);
        for threads in [2, 3] {
            let many = ReferenceGraph::build_on(&directory, threads);
            assert_eq!(many.node_count(), one.node_count());
            let nodes = |g: &ReferenceGraph| g.graph.node_weights().copied().collect::<Vec<_>>();
            assert_eq!(nodes(&many), nodes(&one));
            assert_eq!(edges(&many), edges(&one), "{threads} threads");
        }
        assert!(one.edge_count() > directory.assets().len());
    }
}
