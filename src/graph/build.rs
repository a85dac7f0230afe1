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
        let users = directory.users();
        let accounts = directory.accounts();
        let assets = directory.assets();
        let references = directory.references();
        let nodes = users.len() + accounts.len() + assets.len() + references.len();
        let edges = accounts.len() * 2 + assets.len() * 2 + references.len();
        let mut graph = DiGraph::with_capacity(nodes, edges);
        let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let node = |i: usize| NodeIndex::new(i);

        for i in 0..users.len() {
            graph.add_node(Node::User(index(i)));
        }
        let accounts_at = users.len();
        for (i, account) in accounts.iter().enumerate() {
            let this = graph.add_node(Node::Account(index(i)));
            if let Some(user) = directory.user_index(&account.user) {
                graph.add_edge(node(user), this, Edge::Identity);
            }
        }
        let assets_at = accounts_at + accounts.len();
        for i in 0..assets.len() {
            graph.add_node(Node::Asset(index(i)));
        }
        for (i, asset) in assets.iter().enumerate() {
            let this = node(assets_at + i);
            if let Some(owner) = asset.owner.as_deref().and_then(|o| directory.account_index(o, &asset.env)) {
                graph.add_edge(node(accounts_at + owner), this, Edge::Owns);
            }
            if let Some(space) = asset.space.as_deref().and_then(|s| directory.asset_index(s)) {
                graph.add_edge(this, node(assets_at + space), Edge::In);
            }
            for used in asset.uses.iter().filter_map(|u| directory.asset_index(u)) {
                graph.add_edge(this, node(assets_at + used), Edge::Uses);
            }
        }
        for (i, reference) in references.iter().enumerate() {
            if let Some(account) = directory.account_index(&reference.user, &reference.env) {
                let table = graph.add_node(Node::Table(index(i)));
                graph.add_edge(table, node(accounts_at + account), Edge::Refers);
            }
        }
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
